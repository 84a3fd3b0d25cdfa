namespace VQToken.Api.Videos;

/// <summary>The status transitions a video may take. Both stores apply every update through
/// <see cref="Apply"/>, so the rules live in one place.</summary>
public static class VideoLifecycle
{
    /// <summary>Allowed without an explicit re-enqueue. Staying in the same status is always allowed
    /// (progress, probe, timings). processing → queued is a job handed back (shutdown, retry);
    /// ready → failed is a ready video whose cached entry was lost with no source to recompute from.</summary>
    public static bool CanMove(VideoStatus from, VideoStatus to) => from == to || (from, to) switch
    {
        (VideoStatus.Queued, VideoStatus.Processing) => true,
        (VideoStatus.Queued, VideoStatus.Failed) => true,
        (VideoStatus.Processing, VideoStatus.Ready) => true,
        (VideoStatus.Processing, VideoStatus.Failed) => true,
        (VideoStatus.Processing, VideoStatus.Queued) => true,
        (VideoStatus.Ready, VideoStatus.Failed) => true,
        _ => false,
    };

    /// <summary>Re-enqueue for recompute (or retry): ready or failed → queued. Only
    /// <see cref="IVideoStore.RequeueAsync"/> uses it.</summary>
    public static bool CanRequeue(VideoStatus from) => from is VideoStatus.Ready or VideoStatus.Failed;

    /// <summary>Applies <paramref name="change"/> to <paramref name="current"/>, checks it, and stamps
    /// <see cref="VideoRecord.UpdatedAt"/>.</summary>
    public static VideoUpdateResult Apply(VideoRecord current, Func<VideoRecord, VideoRecord> change, DateTimeOffset now)
    {
        var next = change(current);
        if (next.Id != current.Id || next.Owner != current.Owner || next.Sha256 != current.Sha256
            || next.Settings != current.Settings || next.CreatedAt != current.CreatedAt)
            return VideoUpdateResult.Rejected(current, $"video {current.Id}: id, owner, sha256, settings and createdAt cannot change");
        if (!CanMove(current.Status, next.Status))
            return VideoUpdateResult.Rejected(current, $"video {current.Id}: {Name(current.Status)} → {Name(next.Status)} is not allowed"
                + (CanRequeue(current.Status) && next.Status == VideoStatus.Queued ? " (use RequeueAsync to recompute)" : ""));
        return VideoUpdateResult.Updated(next with { UpdatedAt = now });
    }

    /// <summary>The queued record a re-enqueue makes: progress cleared, the reason kept for the log.</summary>
    public static VideoUpdateResult Requeue(VideoRecord current, string reason, DateTimeOffset now) =>
        CanRequeue(current.Status)
            ? VideoUpdateResult.Updated(current with { Status = VideoStatus.Queued, Reason = reason, Progress = null, UpdatedAt = now })
            : VideoUpdateResult.Rejected(current, $"video {current.Id}: only ready or failed videos can be re-enqueued (it is {Name(current.Status)})");

    private static string Name(VideoStatus s) => s.ToString().ToLowerInvariant();
}
