using System.Text.Json.Serialization;

namespace VQToken.Engine.Compression;

/// <summary>How the position of the largest second difference of the distortion curve becomes a K
/// (see <see cref="ElbowRule"/>). Wire names <c>official</c> and <c>centered</c>.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ElbowIndexing>))]
public enum ElbowIndexing
{
    /// <summary>The published rule (official <c>VQToken/cluster.py</c>): K = max(argmax + 4, Kmin), the argmax
    /// indexing the second differences from 0 without the Kmin offset, so any elbow below Kmin + 9 maps to
    /// Kmin (why the paper averages ~13 tokens). Default.</summary>
    [JsonStringEnumMemberName("official")] Official,

    /// <summary>K at the centre of the largest second difference: the K after which the curve flattens
    /// most. Not what the released model was evaluated with.</summary>
    [JsonStringEnumMemberName("centered")] Centered,
}
