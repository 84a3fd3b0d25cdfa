using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace VQToken.Api.Storage;

/// <summary>Keeps sources + cache entries under <see cref="StorageOptions.MaxBytes"/>, least recently
/// used first, in an order that never strands a video: first sources of videos that have a cached
/// entry (still askable), then cache entries of videos whose source is still there (recomputable).
/// A source with no entry yet (waiting or processing) and an entry whose source is gone (the only copy)
/// are never evicted. Records are not touched.</summary>
public sealed class StorageEvictor(ISourceStore sources, ICompressedCache cache, IOptions<StorageOptions> options, ILogger<StorageEvictor> logger)
{
    public async Task<EvictionReport> EnforceAsync(CancellationToken cancellationToken = default)
    {
        var sourceItems = await sources.ListAsync(cancellationToken);
        var entryItems = await cache.ListAsync(cancellationToken);
        long before = sourceItems.Sum(s => s.Bytes) + entryItems.Sum(e => e.Bytes);
        long total = before, limit = options.Value.MaxBytes;
        int sourcesEvicted = 0, entriesEvicted = 0;

        var cachedVideos = entryItems.Select(e => e.VideoId).ToHashSet(StringComparer.Ordinal);
        var presentSources = sourceItems.Select(s => s.VideoId).ToHashSet(StringComparer.Ordinal);
        foreach (var source in sourceItems.Where(s => cachedVideos.Contains(s.VideoId)).OrderBy(s => s.LastUsed))
        {
            if (total <= limit) break;
            if (await sources.DeleteAsync(source.VideoId, cancellationToken)) { total -= source.Bytes; sourcesEvicted++; }
            presentSources.Remove(source.VideoId);
            logger.LogInformation("Evicted the source of video {VideoId} ({Bytes} bytes; its cached entry stays)", source.VideoId, source.Bytes);
        }
        foreach (var entry in entryItems.Where(e => presentSources.Contains(e.VideoId)).OrderBy(e => e.LastUsed))
        {
            if (total <= limit) break;
            if (await cache.DeleteAsync(entry.VideoId, entry.Fingerprint!, cancellationToken)) { total -= entry.Bytes; entriesEvicted++; }
            logger.LogInformation("Evicted the cached entry of video {VideoId} for model {Fingerprint} ({Bytes} bytes; its source stays)", entry.VideoId, entry.Fingerprint, entry.Bytes);
        }
        if (total > limit)
            logger.LogWarning("Storage holds {Bytes} bytes, above Storage:MaxBytes = {Limit}, and nothing more can be evicted without losing a video", total, limit);
        return new EvictionReport(before, total, sourcesEvicted, entriesEvicted);
    }
}
