namespace VQToken.Api.Storage;

/// <summary>What a video is processed with; part of the dedupe key, so two uploads of the same bytes
/// with different settings are two videos.</summary>
/// <remarks>Records stored before <see cref="Elbow"/> and <see cref="Tokens"/> existed have them null and
/// keep their old meaning: the centered elbow, and VQ-Attention whenever the checkpoint had its weights.</remarks>
public sealed record CompressionSettings
{
    public required int Frames { get; init; }
    public required CompressionMode Mode { get; init; }
    /// <summary>Clusters for <see cref="CompressionMode.VQTokenFixed"/>.</summary>
    public int? K { get; init; }
    /// <summary>Bounds for <see cref="CompressionMode.VQTokenAdaptive"/>.</summary>
    public int? MinK { get; init; }
    public int? MaxK { get; init; }
    /// <summary>Elbow rule of <see cref="CompressionMode.VQTokenAdaptive"/> (null: a legacy record, centered).</summary>
    public ElbowIndexing? Elbow { get; init; }
    /// <summary>Token path of the VQToken modes (null: a legacy record, attention when the checkpoint has it).</summary>
    public TokenPath? Tokens { get; init; }

    public static CompressionSettings Fixed(int frames, int k, TokenPath tokens = TokenPath.Codebook) =>
        new() { Frames = frames, Mode = CompressionMode.VQTokenFixed, K = k, Tokens = tokens };
    public static CompressionSettings Adaptive(int frames, int minK, int maxK, ElbowIndexing elbow = ElbowIndexing.Official, TokenPath tokens = TokenPath.Codebook) =>
        new() { Frames = frames, Mode = CompressionMode.VQTokenAdaptive, MinK = minK, MaxK = maxK, Elbow = elbow, Tokens = tokens };
    public static CompressionSettings FullTokens(int frames) => new() { Frames = frames, Mode = CompressionMode.Full };

    /// <summary>The published path of the released model: adaptive K in 12..32, official elbow, codebook tokens.</summary>
    public static CompressionSettings Published(int frames) => Adaptive(frames, 12, 32);

    /// <summary>Null when consistent, else what is wrong (e.g. a fixed mode without K).</summary>
    public string? Validate() => Mode switch
    {
        _ when Frames is < 1 or > 1024 => $"frames must be in [1, 1024], got {Frames}",
        CompressionMode.VQTokenFixed when K is not (>= 1 and <= 65536) || MinK is not null || MaxK is not null || Elbow is not null =>
            "vqtoken-fixed needs k in [1, 65536] and no minK/maxK/elbow",
        CompressionMode.VQTokenAdaptive when MinK is not >= 1 || MaxK is not <= 65536 || MinK > MaxK || K is not null =>
            "vqtoken-adaptive needs 1 <= minK <= maxK <= 65536 and no k",
        CompressionMode.Full when K is not null || MinK is not null || MaxK is not null || Elbow is not null || Tokens is not null =>
            "full takes no k, minK, maxK, elbow or tokens",
        _ => null,
    };

    /// <summary>The elbow rule this record means (legacy adaptive records: centered).</summary>
    public ElbowIndexing EffectiveElbow => Elbow ?? ElbowIndexing.Centered;

    /// <summary>The token path this record means on a checkpoint with or without VQ-Attention weights.</summary>
    public TokenPath EffectiveTokens(bool hasVQAttention) => Tokens ?? (hasVQAttention ? TokenPath.Attention : TokenPath.Codebook);

    /// <summary>A canonical string for keys: "f32:vqtoken-adaptive:k12-32:official:codebook". Legacy records
    /// (no elbow/tokens) keep their old keys.</summary>
    public string CanonicalKey => Mode switch
    {
        CompressionMode.VQTokenFixed => $"f{Frames}:vqtoken-fixed:k{K}{Suffix(Tokens is { } t ? CompressionModes.WireName(t) : null)}",
        CompressionMode.VQTokenAdaptive => $"f{Frames}:vqtoken-adaptive:k{MinK}-{MaxK}{Suffix(Elbow is { } e ? CompressionModes.WireName(e) : null)}{Suffix(Tokens is { } t ? CompressionModes.WireName(t) : null)}",
        _ => $"f{Frames}:full",
    };

    private static string Suffix(string? part) => part is null ? "" : ":" + part;
}
