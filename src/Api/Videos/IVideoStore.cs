using VQToken.Api.Processing;

namespace VQToken.Api.Videos;

/// <summary>Video records: create (deduplicated), read, update through the lifecycle, list, delete.
/// Records never disappear by eviction, only by <see cref="DeleteAsync"/>.</summary>
public interface IVideoStore
{
    /// <summary>Stores <paramref name="candidate"/> unless its owner already has a video with the
    /// same bytes and settings that is not failed; then returns that one. Atomic: concurrent calls
    /// with the same key create exactly one record.</summary>
    Task<VideoCreation> CreateOrGetExistingAsync(VideoRecord candidate, CancellationToken cancellationToken = default);

    /// <summary>Any owner's video (for the worker); null when unknown.</summary>
    Task<VideoRecord?> GetAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>The video when it exists and belongs to <paramref name="owner"/>; null otherwise, so
    /// another owner's id looks exactly like an unknown one.</summary>
    Task<VideoRecord?> GetOwnedAsync(string owner, string id, CancellationToken cancellationToken = default);

    /// <summary>Read-modify-write of one record, retried on concurrent writers; the change is checked by
    /// <see cref="VideoLifecycle.Apply"/>.</summary>
    Task<VideoUpdateResult> UpdateAsync(string id, Func<VideoRecord, VideoRecord> change, CancellationToken cancellationToken = default);

    /// <summary>Explicit re-enqueue for recompute: ready or failed → queued.</summary>
    Task<VideoUpdateResult> RequeueAsync(string id, string reason, CancellationToken cancellationToken = default);

    /// <summary>An owner's videos newest first, optionally with one status.</summary>
    Task<VideoPage> ListAsync(VideoQuery query, CancellationToken cancellationToken = default);

    /// <summary>Removes the record and its dedupe entry; the caller removes its cache entries and source.</summary>
    Task<bool> DeleteAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Every video (all owners) left queued or processing, oldest first, for the host to
    /// re-enqueue on start. Re-enqueueing is safe: <see cref="IJobQueue.EnqueueAsync"/> ignores a video
    /// that already has a job outstanding.</summary>
    Task<IReadOnlyList<VideoRecord>> RecoverInterruptedAsync(CancellationToken cancellationToken = default);
}
