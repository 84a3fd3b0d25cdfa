using System.Text.Json.Serialization;

namespace VQToken.Engine.Compression;

/// <summary>How a video's visual tokens reach the language model. Wire names (API, CLI, stored records
/// and cache entries): <c>full</c>, <c>vqtoken-fixed</c>, <c>vqtoken-adaptive</c> — JSON uses them too
/// (see <see cref="CompressionModes"/> for parsing, which also takes "fixed" and "adaptive").</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CompressionMode>))]
public enum CompressionMode
{
    /// <summary>Baseline LLaVA-OneVision: all pooled frame tokens, no clustering (handled by the model path).</summary>
    [JsonStringEnumMemberName("full")] Full,

    /// <summary>VQToken with a fixed number K of codebook entries.</summary>
    [JsonStringEnumMemberName("vqtoken-fixed")] VQTokenFixed,

    /// <summary>VQToken with K chosen per video in [Kmin, Kmax] by the elbow rule.</summary>
    [JsonStringEnumMemberName("vqtoken-adaptive")] VQTokenAdaptive,
}
