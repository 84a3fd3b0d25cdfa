using System.Text.Json.Serialization;

namespace VQToken.Engine.Compression;

/// <summary>Which visual tokens a VQToken video gives the language model. Wire names <c>codebook</c> and
/// <c>attention</c> (see <see cref="CompressionModes"/>).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<TokenPath>))]
public enum TokenPath
{
    /// <summary>The K codebook rows + image_newline: the released model's published inference path
    /// (official <c>llava_arch.py</c> hard-codes <c>token_dynamics_only_base</c>). Default.</summary>
    [JsonStringEnumMemberName("codebook")] Codebook,

    /// <summary>VQ-Attention over codebook and index map (the paper's §3.3 module): max(T, K) rows +
    /// image_newline. Only for checkpoints that carry trained <c>model.cross_attention.*</c> weights.</summary>
    [JsonStringEnumMemberName("attention")] Attention,
}
