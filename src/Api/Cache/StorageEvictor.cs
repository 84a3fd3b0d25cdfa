using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VQToken.Api.Storage;
using VQToken.Api.Videos;

namespace VQToken.Api.Cache;

/// <summary>Keeps sources + cache entries under <see cref="StorageOptions.MaxBytes"/> by evicting the
/// least recently used first, but only what never strands a video: a source only while its video has a
/// cached entry (still askable), an entry only while its video's source is there (recomputable). So a
/// source not yet processed, and an entry that is a video's last copy, stay. Records are not touched.
/// <see cref="SweepOrphansAsync"/> is the safety net behind DELETE: what no record refers to goes.</summary>
public sealed class StorageEvictor(IVideoStore videos, ISourceStore sources, ICompressedCache cache, TimeProvider time,
    IOptions<StorageOptions> options, ILogger<StorageEvictor> logger)
{
    /// <summary>Removes sources and cache entries whose video has no record, and stale staged files.
    /// Safe while uploads and jobs run: a record is created before its source is committed and deleted
    /// before its source and entries, so a stored item without a record is never about to get one.</summary>
    public async Task<OrphanReport> SweepOrphansAsync(CancellationToken cancellationToken = default)
    {
        int orphanSources = 0, orphanEntries = 0;
        var known = new Dictionary<string, bool>(StringComparer.Ordinal);
        async Task<bool> HasRecord(string id)
        {
            if (!known.TryGetValue(id, out var exists)) known[id] = exists = await videos.GetAsync(id, cancellationToken) is not null;
            return exists;
        }
        foreach (var source in await sources.ListAsync(cancellationToken))
        {
            if (await HasRecord(source.VideoId)) continue;
            if (await sources.DeleteAsync(source.VideoId, cancellationToken)) orphanSources++;
            logger.LogInformation("Removed the source of video {VideoId} ({Bytes} bytes): the video no longer exists", source.VideoId, source.Bytes);
        }
        foreach (var entry in await cache.ListAsync(cancellationToken))
        {
            if (await HasRecord(entry.VideoId)) continue;
            if (await cache.DeleteAsync(entry.VideoId, entry.Fingerprint!, cancellationToken)) orphanEntries++;
            logger.LogInformation("Removed the cached entry of video {VideoId} for model {Fingerprint}: the video no longer exists", entry.VideoId, entry.Fingerprint);
        }
        int staged = await sources.DeleteStagedBeforeAsync(time.GetUtcNow() - options.Value.StagingMaxAge, cancellationToken);
        if (staged > 0) logger.LogInformation("Removed {Count} staged upload files older than {MaxAge}", staged, options.Value.StagingMaxAge);
        return new OrphanReport(orphanSources, orphanEntries, staged);
    }

    public async Task<EvictionReport> EnforceAsync(CancellationToken cancellationToken = default)
    {
        var sourceItems = await sources.ListAsync(cancellationToken);
        var entryItems = await cache.ListAsync(cancellationToken);
        long before = sourceItems.Sum(s => s.Bytes) + entryItems.Sum(e => e.Bytes);
        long total = before, limit = options.Value.MaxBytes;
        int sourcesEvicted = 0, entriesEvicted = 0;

        var entriesPerVideo = entryItems.CountBy(e => e.VideoId).ToDictionary(StringComparer.Ordinal);
        var sourcePresent = sourceItems.Select(s => s.VideoId).ToHashSet(StringComparer.Ordinal);
        // One pass in LRU order is enough: evicting only ever makes other items ineligible, never eligible.
        foreach (var item in sourceItems.Concat(entryItems).OrderBy(i => i.LastUsed))
        {
            if (total <= limit) break;
            if (item.Fingerprint is null)
            {
                if (entriesPerVideo.GetValueOrDefault(item.VideoId) == 0) continue;
                if (await sources.DeleteAsync(item.VideoId, cancellationToken)) { total -= item.Bytes; sourcesEvicted++; }
                sourcePresent.Remove(item.VideoId);
                logger.LogInformation("Evicted the source of video {VideoId} ({Bytes} bytes); its cached entry stays", item.VideoId, item.Bytes);
            }
            else
            {
                if (!sourcePresent.Contains(item.VideoId)) continue;
                if (await cache.DeleteAsync(item.VideoId, item.Fingerprint, cancellationToken)) { total -= item.Bytes; entriesEvicted++; }
                entriesPerVideo[item.VideoId]--;
                logger.LogInformation("Evicted the cached entry of video {VideoId} for model {Fingerprint} ({Bytes} bytes); its source stays", item.VideoId, item.Fingerprint, item.Bytes);
            }
        }
        if (total > limit)
            logger.LogWarning("Storage holds {Bytes} bytes, above Storage:MaxBytes = {Limit}; the rest cannot be evicted without losing a video", total, limit);
        return new EvictionReport(before, total, sourcesEvicted, entriesEvicted);
    }
}
