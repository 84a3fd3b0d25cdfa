using Microsoft.Extensions.Logging;
using VQToken.Api.Processing;
using VQToken.Api.Videos;

namespace VQToken.Api.Cache;

/// <summary>Gets a ready video's compressed entry for the current model, and when it is missing or
/// corrupt does what the store promises: discard it, recompute from the stored source if there is one
/// (re-enqueue), else mark the video failed with the reason.</summary>
public sealed class CachedVideoResolver(IVideoStore videos, ICompressedCache cache, ISourceStore sources, IJobQueue queue, ILogger<CachedVideoResolver> logger)
{
    public async Task<CachedVideo> ResolveAsync(VideoRecord video, string modelFingerprint, CancellationToken cancellationToken = default)
    {
        var lookup = await cache.GetAsync(video.Id, modelFingerprint, cancellationToken);
        if (lookup.Status == CacheLookupStatus.Hit) return new CachedVideo(CachedVideoOutcome.Ready, lookup.Entry, null);

        string problem = lookup.Status == CacheLookupStatus.Corrupt
            ? $"cached entry was corrupt ({lookup.Reason})"
            : lookup.Reason is { } missed ? $"no usable cached entry for model {modelFingerprint} ({missed})" : $"no cached entry for model {modelFingerprint}";
        if (lookup.Status == CacheLookupStatus.Corrupt)
        {
            logger.LogWarning("Discarding the corrupt cached entry of video {VideoId} for model {Fingerprint}: {Reason}", video.Id, modelFingerprint, lookup.Reason);
            await cache.DeleteAsync(video.Id, modelFingerprint, cancellationToken);
        }

        if (await sources.GetPathAsync(video.Id, cancellationToken) is not null)
        {
            var requeued = await videos.RequeueAsync(video.Id, $"{problem}; recomputing from the stored source", cancellationToken);
            if (requeued.Outcome == VideoUpdateOutcome.Updated) await queue.EnqueueAsync(video.Id, cancellationToken);
            return new CachedVideo(CachedVideoOutcome.Recomputing, null, requeued.Video?.Reason ?? problem);
        }

        string reason = $"{problem} and the source video is no longer stored; upload it again";
        await videos.UpdateAsync(video.Id, r => r with { Status = VideoStatus.Failed, Reason = reason, Progress = null }, cancellationToken);
        logger.LogWarning("Video {VideoId} failed: {Reason}", video.Id, reason);
        return new CachedVideo(CachedVideoOutcome.Failed, null, reason);
    }
}
