using VQToken.Engine.Runtime;

namespace VQToken.Api.Cache;

/// <summary>One cached video for one model: the engine's encoding (codebook + index map, or full-mode tokens)
/// and when it was made. Stored by <see cref="CacheEntryFile"/>.</summary>
public sealed record CacheEntry(string ModelFingerprint, VideoEncoding Encoding)
{
    public DateTimeOffset CreatedAt { get; init; } = DateTimeOffset.UtcNow;

    /// <summary>Time in the source (seconds) of each sampled frame; null in entries written before timestamps were kept.</summary>
    public IReadOnlyList<double>? FrameTimes { get; init; }

    /// <summary>What the encoding was made with (VQToken modes: the resolved settings the engine ran).</summary>
    public CompressionSettings Settings => Encoding.Compressed?.Settings ?? CompressionSettings.FullTokens(Encoding.Frames);
}
