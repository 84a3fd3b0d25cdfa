using System.Text.Json.Serialization;

namespace VQToken.Api.Storage;

/// <summary>How a video's tokens are compressed before they reach the LLM.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CompressionMode>))]
public enum CompressionMode
{
    /// <summary>VQToken with a fixed number of clusters K.</summary>
    [JsonStringEnumMemberName("vqtoken-fixed")] VQTokenFixed,
    /// <summary>VQToken choosing K in [MinK, MaxK] per video.</summary>
    [JsonStringEnumMemberName("vqtoken-adaptive")] VQTokenAdaptive,
    /// <summary>The uncompressed LLaVA-OneVision baseline.</summary>
    [JsonStringEnumMemberName("full")] Full,
}
