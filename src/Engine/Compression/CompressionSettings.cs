namespace VQToken.Engine.Compression;

/// <summary>
/// What to compress a video with. Fixed mode uses <see cref="K"/>; adaptive mode chooses K in
/// [<see cref="MinK"/>, <see cref="MaxK"/>] by <see cref="Elbow"/>; <see cref="Tokens"/> says what the LLM
/// reads. Defaults: the released model's published path (adaptive 12..32, official elbow, codebook).
/// Stored with every <see cref="CompressedVideo"/> so a cached entry says how it was made.
/// </summary>
public sealed record CompressionSettings
{
    /// <summary>Largest K the cached representation supports (index map entries are int16).</summary>
    public const int MaxSupportedK = short.MaxValue;

    public CompressionMode Mode { get; init; } = CompressionMode.VQTokenAdaptive;

    /// <summary>Codebook size in fixed mode (the paper's main setting: 32).</summary>
    public int K { get; init; } = 32;

    /// <summary>Smallest K in adaptive mode (official: 12).</summary>
    public int MinK { get; init; } = 12;

    /// <summary>Largest K in adaptive mode (official evaluation: 32).</summary>
    public int MaxK { get; init; } = 32;

    /// <summary>Seed of the k-means++ sampling: the same seed on the same features gives the same result.</summary>
    public ulong Seed { get; init; }

    /// <summary>Lloyd iteration cap of the final fit.</summary>
    public int MaxIterations { get; init; } = 50;

    /// <summary>Adaptive mode's elbow-to-K mapping.</summary>
    public ElbowIndexing Elbow { get; init; } = ElbowIndexing.Official;

    /// <summary>What the language model reads: the codebook (published) or VQ-Attention's output.</summary>
    public TokenPath Tokens { get; init; } = TokenPath.Codebook;

    /// <summary>Fixed-length settings.</summary>
    public static CompressionSettings Fixed(int k = 32, ulong seed = 0, TokenPath tokens = TokenPath.Codebook) =>
        new() { Mode = CompressionMode.VQTokenFixed, K = k, Seed = seed, Tokens = tokens };

    /// <summary>Adaptive-length settings.</summary>
    public static CompressionSettings Adaptive(int minK = 12, int maxK = 32, ulong seed = 0,
        ElbowIndexing elbow = ElbowIndexing.Official, TokenPath tokens = TokenPath.Codebook) =>
        new() { Mode = CompressionMode.VQTokenAdaptive, MinK = minK, MaxK = maxK, Seed = seed, Elbow = elbow, Tokens = tokens };

    /// <summary>Throws when the settings cannot drive a VQToken compression.</summary>
    public void Validate()
    {
        if (Mode == CompressionMode.Full)
            throw new ArgumentException("mode 'full' keeps all tokens: nothing to compress");
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxIterations, 1, nameof(MaxIterations));
        if (Mode == CompressionMode.VQTokenFixed)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(K, 1, nameof(K));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(K, MaxSupportedK, nameof(K));
        }
        else
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(MinK, 1, nameof(MinK));
            ArgumentOutOfRangeException.ThrowIfLessThan(MaxK, MinK, nameof(MaxK));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxK, MaxSupportedK, nameof(MaxK));
        }
    }
}
