using System.Threading.Channels;
using VQToken.Api.Videos;

namespace VQToken.Api.Processing;

/// <summary>The file store's in-process queue, with the same at-least-once contract as the Redis one:
/// a dequeued job stays pending until acknowledged, and one left idle past the timeout (its worker
/// task died) goes to the next <see cref="DequeueAsync"/>. It is not persisted: on start the host
/// re-enqueues <see cref="IVideoStore.RecoverInterruptedAsync"/>, which the records make complete.</summary>
public sealed class LocalJobQueue(TimeProvider time, TimeSpan idleTimeout, string consumer = "local") : IJobQueue
{
    private readonly Channel<string> _ready = Channel.CreateUnbounded<string>();
    private readonly Lock _gate = new();
    private readonly HashSet<string> _outstanding = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PendingJob> _pending = new(StringComparer.Ordinal);
    private long _deliveries;

    private sealed record PendingJob(VideoJob Job, DateTimeOffset LastTouched);

    public Task<bool> EnqueueAsync(string videoId, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (!_outstanding.Add(videoId)) return Task.FromResult(false);
        }
        _ready.Writer.TryWrite(videoId); // unbounded: always succeeds
        return Task.FromResult(true);
    }

    public async Task<VideoJob> DequeueAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (TryReclaim() is { } reclaimed) return reclaimed;
            if (_ready.Reader.TryRead(out var videoId)) return Deliver(videoId, deliveryCount: 1);
            // Wake for a new job, or when the oldest pending job could have gone idle.
            var wait = NextReclaimDue();
            using var wake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            if (wait is { } delay) wake.CancelAfter(delay);
            try { await _ready.Reader.WaitToReadAsync(wake.Token); }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested) { }
        }
    }

    public Task<bool> KeepAliveAsync(VideoJob job, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (!_pending.TryGetValue(job.DeliveryId, out var pending) || pending.Job.Consumer != job.Consumer) return Task.FromResult(false);
            _pending[job.DeliveryId] = pending with { LastTouched = time.GetUtcNow() };
            return Task.FromResult(true);
        }
    }

    public Task AckAsync(VideoJob job, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (_pending.Remove(job.DeliveryId)) _outstanding.Remove(job.VideoId);
        }
        return Task.CompletedTask;
    }

    public Task CheckAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    private VideoJob Deliver(string videoId, int deliveryCount)
    {
        lock (_gate) return DeliverLocked(videoId, deliveryCount);
    }

    private VideoJob DeliverLocked(string videoId, int deliveryCount)
    {
        var job = new VideoJob(videoId, (++_deliveries).ToString(System.Globalization.CultureInfo.InvariantCulture), consumer, deliveryCount);
        _pending[job.DeliveryId] = new PendingJob(job, time.GetUtcNow());
        return job;
    }

    private VideoJob? TryReclaim()
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            var idle = _pending.Values.Where(p => now - p.LastTouched >= idleTimeout).MinBy(p => p.LastTouched);
            if (idle is null) return null;
            // A new delivery id, so the abandoned holder can no longer keep it alive or ack it.
            _pending.Remove(idle.Job.DeliveryId);
            return DeliverLocked(idle.Job.VideoId, idle.Job.DeliveryCount + 1);
        }
    }

    private TimeSpan? NextReclaimDue()
    {
        lock (_gate)
        {
            if (_pending.Count == 0) return null;
            var due = _pending.Values.Min(p => p.LastTouched) + idleTimeout - time.GetUtcNow();
            return due > TimeSpan.Zero ? due : TimeSpan.FromMilliseconds(1);
        }
    }
}
