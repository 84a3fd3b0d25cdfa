namespace VQToken.Api.Storage;

/// <summary>What a video is processed with; part of the dedupe key, so two uploads of the same bytes
/// with different settings are two videos.</summary>
public sealed record CompressionSettings
{
    public required int Frames { get; init; }
    public required CompressionMode Mode { get; init; }
    /// <summary>Clusters for <see cref="CompressionMode.VQTokenFixed"/>.</summary>
    public int? K { get; init; }
    /// <summary>Bounds for <see cref="CompressionMode.VQTokenAdaptive"/>.</summary>
    public int? MinK { get; init; }
    public int? MaxK { get; init; }

    public static CompressionSettings Fixed(int frames, int k) => new() { Frames = frames, Mode = CompressionMode.VQTokenFixed, K = k };
    public static CompressionSettings Adaptive(int frames, int minK, int maxK) => new() { Frames = frames, Mode = CompressionMode.VQTokenAdaptive, MinK = minK, MaxK = maxK };
    public static CompressionSettings FullTokens(int frames) => new() { Frames = frames, Mode = CompressionMode.Full };

    /// <summary>Null when consistent, else what is wrong (e.g. a fixed mode without K).</summary>
    public string? Validate() => Mode switch
    {
        _ when Frames is < 1 or > 1024 => $"frames must be in [1, 1024], got {Frames}",
        CompressionMode.VQTokenFixed when K is not (>= 1 and <= 65536) || MinK is not null || MaxK is not null =>
            "vqtoken-fixed needs k in [1, 65536] and no minK/maxK",
        CompressionMode.VQTokenAdaptive when MinK is not >= 1 || MaxK is not <= 65536 || MinK > MaxK || K is not null =>
            "vqtoken-adaptive needs 1 <= minK <= maxK <= 65536 and no k",
        CompressionMode.Full when K is not null || MinK is not null || MaxK is not null => "full takes no k, minK or maxK",
        _ => null,
    };

    /// <summary>A canonical string for keys: "f32:vqtoken-fixed:k32".</summary>
    public string CanonicalKey => Mode switch
    {
        CompressionMode.VQTokenFixed => $"f{Frames}:vqtoken-fixed:k{K}",
        CompressionMode.VQTokenAdaptive => $"f{Frames}:vqtoken-adaptive:k{MinK}-{MaxK}",
        _ => $"f{Frames}:full",
    };
}
