using VQToken.Api.Videos;

namespace VQToken.Api.Processing;

/// <summary>The processing queue, at-least-once: a job stays pending after
/// <see cref="DequeueAsync"/> until <see cref="AckAsync"/>; one left unacknowledged and untouched
/// for longer than the idle timeout (its consumer died) is handed to the next caller of
/// <see cref="DequeueAsync"/>. Workers must therefore tolerate a video they (or another replica)
/// already finished: check the record first.</summary>
public interface IJobQueue
{
    /// <summary>Adds a job unless the video already has one outstanding (queued or pending); returns
    /// whether it added one. So re-enqueueing everything <see cref="IVideoStore.RecoverInterruptedAsync"/>
    /// returns never doubles work.</summary>
    Task<bool> EnqueueAsync(string videoId, CancellationToken cancellationToken = default);

    /// <summary>Waits for the next job: first one reclaimed from an idle consumer, else a new one.</summary>
    Task<VideoJob> DequeueAsync(CancellationToken cancellationToken = default);

    /// <summary>Resets the job's idle clock (call it while a long job makes progress); false when the
    /// job is no longer this consumer's (reclaimed by another, or acknowledged).</summary>
    Task<bool> KeepAliveAsync(VideoJob job, CancellationToken cancellationToken = default);

    /// <summary>Marks the job done; the video may be enqueued again afterwards.</summary>
    Task AckAsync(VideoJob job, CancellationToken cancellationToken = default);

    /// <summary>Throws unless jobs can be read now (readiness); repairs what it can, such as a consumer
    /// group lost with Redis's data.</summary>
    Task CheckAsync(CancellationToken cancellationToken = default);
}
