namespace VQToken.Engine.Compression;

/// <summary>How the position of the largest second difference of the distortion curve becomes a K
/// (see <see cref="ElbowRule"/>).</summary>
public enum ElbowIndexing
{
    /// <summary>K at the centre of the largest second difference: the K after which the curve
    /// flattens most. Default.</summary>
    Centered,

    /// <summary>The official code's arithmetic, kept for reproducing its token counts:
    /// K = max(argmax + 4, Kmin), where argmax indexes the second differences from 0 without the Kmin
    /// offset, so any elbow below Kmin + 9 maps to Kmin (why the paper averages ~13 tokens).</summary>
    Official,
}
