using System.Diagnostics;
using Microsoft.Extensions.Options;
using VQToken.Api.Cache;
using VQToken.Api.Inference;
using VQToken.Api.ServiceDefaults;
using VQToken.Api.Storage;
using VQToken.Api.Videos;
using VQToken.Engine.Runtime;
using VQToken.Ingestion;

namespace VQToken.Api.Processing;

/// <summary>Settings of the background processing (section <c>Processing</c>).</summary>
public sealed class ProcessingOptions
{
    public const string Section = "Processing";
    /// <summary>Videos processed at once by this replica (their frames share the engine's vision batches).</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 64)] public int Workers { get; set; } = 2;
    /// <summary>Attempts before a video that keeps failing unexpectedly is marked failed.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 100)] public int MaxAttempts { get; set; } = 3;
}

/// <summary>The engine's encode as the worker calls it: the one seam where tests inject engine faults.</summary>
public interface IVideoEncoder
{
    Task<VideoEncoding> EncodeAsync(EncodeRequest request, IProgress<EncodeProgress>? progress, CancellationToken cancellationToken);
}

/// <summary>Encodes on this replica's engine.</summary>
public sealed class EngineVideoEncoder(ModelHost model) : IVideoEncoder
{
    public Task<VideoEncoding> EncodeAsync(EncodeRequest request, IProgress<EncodeProgress>? progress, CancellationToken cancellationToken) =>
        model.Engine.EncodeAsync(request, progress, cancellationToken);
}

/// <summary>The processing loop of a replica: takes jobs from the queue (local or a Redis stream
/// shared by all replicas), samples frames with ffmpeg, has the engine encode and compress them,
/// stores the compressed entry and marks the video ready — or failed with the reason. On start,
/// videos left queued/processing by a crash are re-enqueued. Nothing a video or the store throws
/// escapes it (a faulted BackgroundService would stop the host): while the store is unreachable a
/// job stays pending and is retried with backoff; other errors count as the video's attempts.</summary>
public sealed class VideoProcessor(
    IVideoStore videos, ICompressedCache cache, ISourceStore sources, IJobQueue queue, FrameSampler sampler,
    ModelHost model, IVideoEncoder encoder, IOptions<ProcessingOptions> options, IOptions<StorageOptions> storage,
    IOptions<EngineOptions> engine, ILogger<VideoProcessor> log) : BackgroundService
{
    /// <summary>What one pass over a job came to.</summary>
    internal enum Outcome
    {
        /// <summary>Finished (ready, failed, deleted or already done): acknowledge.</summary>
        Done,
        /// <summary>Not finished, still this replica's: try it again after a backoff.</summary>
        RetrySoon,
        /// <summary>Shutting down, or another consumer took the job over: leave it pending.</summary>
        Release,
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await model.Loaded.WaitAsync(stoppingToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogError("Video processing is off: the model did not load ({Reason})", model.Status);
            return;
        }
        await RecoverInterruptedAsync(stoppingToken);
        await Task.WhenAll(Enumerable.Range(0, options.Value.Workers).Select(_ => WorkAsync(stoppingToken)));
    }

    /// <summary>Re-enqueues videos left queued/processing; waits for the store when it is unreachable.</summary>
    private async Task RecoverInterruptedAsync(CancellationToken stoppingToken)
    {
        var backoff = new Backoff();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                foreach (var video in await videos.RecoverInterruptedAsync(stoppingToken))
                {
                    log.LogInformation("Re-enqueueing video {VideoId} left {Status}", video.Id, video.Status);
                    await queue.EnqueueAsync(video.Id, stoppingToken);
                }
                return;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { return; }
            catch (Exception e) when (StoreFaults.IsUnavailable(e))
            {
                log.LogWarning("Recovering interrupted videos waits for the store: {Reason}", e.Message);
            }
            catch (Exception e)
            {
                log.LogError(e, "Recovering interrupted videos failed; processing new jobs anyway");
                return;
            }
            if (!await backoff.WaitAsync(stoppingToken)) return;
        }
    }

    private async Task WorkAsync(CancellationToken stoppingToken)
    {
        var backoff = new Backoff();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var job = await queue.DequeueAsync(stoppingToken);
                backoff.Reset();
                await RunJobAsync(job, stoppingToken);
                continue;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { return; }
            catch (Exception e) when (StoreFaults.IsUnavailable(e))
            {
                log.LogWarning("Taking a job from the queue failed, the store is unavailable: {Reason}", e.Message);
            }
            catch (Exception e)
            {
                log.LogError(e, "Taking a job from the queue failed");
            }
            if (!await backoff.WaitAsync(stoppingToken)) return;
        }
    }

    /// <summary>Runs one job until it is done (then acknowledges it), released, or the host stops;
    /// the job is kept alive all along, so no other replica takes it while this one retries.</summary>
    private async Task RunJobAsync(VideoJob job, CancellationToken stoppingToken)
    {
        var outcome = Outcome.Release;
        using (var lease = JobLease.Start(queue, job, storage.Value.HeartbeatInterval, log, stoppingToken))
        {
            var backoff = new Backoff();
            while (true)
            {
                try
                {
                    outcome = await ProcessAsync(job, lease.Token);
                }
                catch (OperationCanceledException) when (lease.Token.IsCancellationRequested)
                {
                    outcome = Outcome.Release;
                }
                catch (Exception e) when (StoreFaults.IsUnavailable(e))
                {
                    log.LogWarning("Video {VideoId} waits for the store: {Reason}", job.VideoId, e.Message);
                    outcome = Outcome.RetrySoon;
                }
                catch (Exception e)
                {
                    // Thrown by the failure path itself; the next pass counts another attempt.
                    log.LogError(e, "Processing video {VideoId} failed unexpectedly; retrying it", job.VideoId);
                    outcome = Outcome.RetrySoon;
                }
                if (outcome != Outcome.RetrySoon) break;
                if (!await backoff.WaitAsync(lease.Token))
                {
                    outcome = Outcome.Release;
                    break;
                }
            }
        }
        if (outcome == Outcome.Done) await DurablyAsync(() => queue.AckAsync(job, stoppingToken), stoppingToken);
    }

    /// <summary>One pass over a job. Store faults propagate (the caller retries the job); any other
    /// error is this video's: a failure, or another attempt while attempts remain.</summary>
    internal async Task<Outcome> ProcessAsync(VideoJob job, CancellationToken cancellationToken)
    {
        var record = await videos.GetAsync(job.VideoId, cancellationToken);
        if (record is null || record.Status is VideoStatus.Ready or VideoStatus.Failed) return Outcome.Done;   // deleted or already done
        using var activity = EngineMetrics.Activities.StartActivity("video.process");
        activity?.SetTag("video.id", record.Id);
        var stages = new Dictionary<string, double>();
        var clock = Stopwatch.StartNew();
        int attempt = record.Attempts + 1;
        try
        {
            var started = await videos.UpdateAsync(record.Id, r => r with
            {
                Status = VideoStatus.Processing, Attempts = r.Attempts + 1, Reason = null, Progress = new VideoProgress("frames", 0),
            }, cancellationToken);
            if (started.Outcome != VideoUpdateOutcome.Updated) return Outcome.Done;
            attempt = started.Video!.Attempts;
            if (attempt > options.Value.MaxAttempts)
            {
                await FailAsync(record.Id, $"processing failed {options.Value.MaxAttempts} times; giving up", cancellationToken);
                return Outcome.Done;
            }
            var path = await sources.GetPathAsync(record.Id, cancellationToken);
            if (path is null)
            {
                await FailAsync(record.Id, "the source video is no longer stored; upload it again", cancellationToken);
                return Outcome.Done;
            }

            var info = await sampler.ProbeAsync(path, cancellationToken);
            var indices = sampler.ChooseIndices(info, record.Settings.ToFrameRequest());
            stages["frames"] = clock.Elapsed.TotalMilliseconds;   // probe and plan; decoding overlaps the vision stage
            var probe = new SourceProbe(info.DurationSeconds, info.FrameRate, info.Width, info.Height, info.CodecName);
            var frameTimes = FrameSelection.Times(indices, info.FrameRate);
            // Progress is for watchers: an unreachable store must not stop the work.
            Observe(videos.UpdateAsync(record.Id, r => r with { Probe = probe, Progress = new VideoProgress("vision", 0, 0, indices.Length) }, cancellationToken));

            var vision = Stopwatch.StartNew();
            // A progress update that finds the video gone (deleted meanwhile) stops the work: ffmpeg and the engine let go now.
            using var deleted = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var progress = new ThrottledProgress(p => Observe(videos.UpdateAsync(record.Id, r => r.Status == VideoStatus.Processing
                ? r with { Progress = ProgressOf(p, vision.Elapsed) } : r), deleted));
            VideoEncoding encoding;
            try
            {
                encoding = await EncodeStreamedAsync(record, path, info, indices, progress, deleted.Token);
            }
            catch (OperationCanceledException) when (deleted.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                await cache.DeleteAllAsync(record.Id, CancellationToken.None);
                await sources.DeleteAsync(record.Id, CancellationToken.None);
                log.LogInformation("Video {VideoId} was deleted while it was processed; its processing stopped", record.Id);
                return Outcome.Done;
            }
            stages["vision"] = encoding.VisionMs;
            stages["compress"] = encoding.CompressionMs;

            // From here the work is done: the store is waited for rather than the video encoded again.
            var entry = new CacheEntry(model.Fingerprint, encoding) { FrameTimes = frameTimes };
            await DurablyAsync(() => cache.PutAsync(record.Id, entry, cancellationToken), cancellationToken);
            stages["total"] = clock.Elapsed.TotalMilliseconds;
            VideoUpdateResult? finished = null;
            await DurablyAsync(async () => finished = await videos.UpdateAsync(record.Id, r => r with
            {
                Status = VideoStatus.Ready, Progress = new VideoProgress("ready", 1, encoding.Frames, encoding.Frames, 0), Reason = null, Probe = probe,
                Tokens = new TokenCounts(encoding.OriginalTokens, encoding.VisualTokens), StageMilliseconds = stages, FrameTimes = frameTimes,
            }, cancellationToken), cancellationToken);
            if (finished!.Outcome == VideoUpdateOutcome.NotFound)
            {
                // Deleted meanwhile: a DELETE removes the record before the cache entries, so it may have
                // swept the cache before this entry was written; what it could not see is removed here.
                await cache.DeleteAllAsync(record.Id, CancellationToken.None);
                await sources.DeleteAsync(record.Id, CancellationToken.None);
                log.LogInformation("Video {VideoId} was deleted while it was processed; its entry is discarded", record.Id);
                return Outcome.Done;
            }
            log.LogInformation("Video {VideoId} ready: {Original} → {Visual} visual tokens in {Ms:F0} ms", record.Id, encoding.OriginalTokens, encoding.VisualTokens, stages["total"]);
            return Outcome.Done;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down (or the job was taken over): leave it; recovery or the queue's reclaim picks it up again.
            return Outcome.Release;
        }
        catch (EngineUnavailableException) when (cancellationToken.IsCancellationRequested)
        {
            return Outcome.Release;   // the engine stopped with the host
        }
        catch (EngineOverloadedException e)
        {
            // Not the video's fault: hand it back to the queue state without counting the attempt, and retry soon.
            log.LogInformation("Video {VideoId} waits: the engine is overloaded ({Reason})", record.Id, e.Message);
            await DurablyAsync(() => videos.UpdateAsync(record.Id, r => r.Status == VideoStatus.Processing
                ? r with { Status = VideoStatus.Queued, Progress = null, Attempts = Math.Max(0, r.Attempts - 1) } : r, cancellationToken), cancellationToken);
            return Outcome.RetrySoon;
        }
        catch (VideoIngestException e)
        {
            await FailAsync(record.Id, e.Message, cancellationToken);
            return Outcome.Done;
        }
        catch (Exception e) when (e is EngineUnavailableException or ArgumentException or InvalidDataException or IOException)
        {
            log.LogError(e, "Processing video {VideoId} failed", record.Id);
            await FailAsync(record.Id, "processing failed: " + e.Message, cancellationToken);
            return Outcome.Done;
        }
        catch (Exception e) when (!StoreFaults.IsUnavailable(e))
        {
            if (attempt >= options.Value.MaxAttempts)
            {
                log.LogError(e, "Processing video {VideoId} failed on attempt {Attempt}; giving up", record.Id, attempt);
                await FailAsync(record.Id, $"processing failed {attempt} times: {e.Message}", cancellationToken);
                return Outcome.Done;
            }
            log.LogWarning(e, "Processing video {VideoId} failed on attempt {Attempt}; retrying", record.Id, attempt);
            await DurablyAsync(() => videos.UpdateAsync(record.Id, r => r.Status == VideoStatus.Processing
                ? r with { Status = VideoStatus.Queued, Progress = null, Reason = $"attempt {attempt} failed: {e.Message}; retrying" } : r, cancellationToken), cancellationToken);
            return Outcome.RetrySoon;
        }
    }

    /// <summary>Frames decoded by ffmpeg go to the engine in chunks as they come (memory bounded by a few chunks and
    /// one feature buffer, not by the frames); a decoding error is the video's error, and whatever way the encoding
    /// ends, ffmpeg is stopped and the stream released.</summary>
    private async Task<VideoEncoding> EncodeStreamedAsync(VideoRecord record, string path, VideoInfo info, int[] indices,
        IProgress<EncodeProgress> progress, CancellationToken cancellationToken)
    {
        var stream = new FrameStream(indices.Length, sampler.Options.FrameSize, StreamedChunks);
        int chunkFrames = Math.Max(1, engine.Value.MaxBatchFrames);   // a chunk fills a vision batch
        using var stopDecoding = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var decoding = Task.Run(() => sampler.StreamAsync(path, info, indices, stream.Writer, chunkFrames, stopDecoding.Token, stream.RentBuffer), CancellationToken.None);
        try
        {
            var settings = record.Settings.Mode == CompressionMode.Full ? null : record.Settings.Resolve(model.Info!.HasVQAttention);
            var encoding = await encoder.EncodeAsync(EncodeRequest.Streamed(record.Id, stream, record.Settings.Mode, settings), progress, cancellationToken);
            await decoding;
            return encoding;
        }
        catch (Exception) when (!decoding.IsCompletedSuccessfully)
        {
            stopDecoding.Cancel();
            stream.Writer.TryComplete();
            // The decoder's own error (not a video, a timeout) says more than the engine's view of a broken stream.
            try { await decoding; }
            catch (VideoIngestException e) when (!cancellationToken.IsCancellationRequested) { System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e); }
            catch (Exception) { }
            throw;
        }
    }

    /// <summary>Chunks (of Engine:MaxBatchFrames frames) decoded ahead of the engine.</summary>
    private const int StreamedChunks = 2;

    /// <summary>Stage, fraction, frames done of the total and the time the remaining frames should take at the rate so far.</summary>
    public static VideoProgress ProgressOf(EncodeProgress p, TimeSpan elapsed)
    {
        if (p.Stage == "compressed") return new VideoProgress("compress", 1, p.FramesEncoded, p.FramesTotal, 0);
        double? eta = p.FramesEncoded == 0 ? null : Math.Round(elapsed.TotalSeconds / p.FramesEncoded * (p.FramesTotal - p.FramesEncoded), 1);
        return new VideoProgress("vision", p.FramesTotal == 0 ? 0 : (double)p.FramesEncoded / p.FramesTotal, p.FramesEncoded, p.FramesTotal, eta);
    }

    private Task FailAsync(string id, string reason, CancellationToken cancellationToken) =>
        DurablyAsync(() => videos.UpdateAsync(id, r => r with { Status = VideoStatus.Failed, Reason = reason, Progress = null }, cancellationToken), cancellationToken);

    /// <summary>Runs a store call until it goes through: store faults are waited out with backoff (until
    /// cancelled); any other error propagates.</summary>
    private async Task DurablyAsync(Func<Task> call, CancellationToken cancellationToken)
    {
        var backoff = new Backoff();
        while (true)
        {
            try
            {
                await call();
                return;
            }
            catch (Exception e) when (StoreFaults.IsUnavailable(e))
            {
                log.LogWarning("A store write waits for the store: {Reason}", e.Message);
            }
            if (!await backoff.WaitAsync(cancellationToken)) cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>A fire-and-forget update that cancels <paramref name="whenGone"/> when the video no longer exists.</summary>
    private void Observe(Task<VideoUpdateResult> update, CancellationTokenSource whenGone)
    {
        Observe(update);
        update.ContinueWith(t =>
        {
            if (t.Result.Outcome != VideoUpdateOutcome.NotFound) return;
            try { whenGone.Cancel(); }
            catch (ObjectDisposedException) { }   // the work already ended
        }, CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Lets a fire-and-forget store call fail quietly (logged at debug).</summary>
    private void Observe(Task task) =>
        task.ContinueWith(t => log.LogDebug(t.Exception!.GetBaseException(), "A progress update was not stored"),
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    /// <summary>Keeps a job alive every heartbeat (a third of the idle timeout) while it runs, so no other
    /// consumer reclaims it; when the queue says the job is no longer this consumer's, cancels the work
    /// so the job never runs twice at once. Heartbeats that fail (store unreachable) are retried.</summary>
    private sealed class JobLease : IDisposable
    {
        private readonly CancellationTokenSource _cancel;
        public CancellationToken Token { get; }

        private JobLease(CancellationTokenSource cancel)
        {
            _cancel = cancel;
            Token = cancel.Token;
        }

        public static JobLease Start(IJobQueue queue, VideoJob job, TimeSpan interval, ILogger log, CancellationToken stoppingToken)
        {
            var lease = new JobLease(CancellationTokenSource.CreateLinkedTokenSource(stoppingToken));
            var token = lease.Token;
            _ = Task.Run(async () =>
            {
                using var timer = new PeriodicTimer(interval);
                try
                {
                    while (await timer.WaitForNextTickAsync(token))
                    {
                        bool kept;
                        try { kept = await queue.KeepAliveAsync(job, token); }
                        catch (Exception e) when (e is not OperationCanceledException)
                        {
                            log.LogWarning("Heartbeat for video {VideoId} failed: {Reason}", job.VideoId, e.Message);
                            continue;
                        }
                        if (kept) continue;
                        log.LogWarning("Video {VideoId}: the job is no longer this replica's (reclaimed, or the store lost it); stopping here", job.VideoId);
                        lease.Cancel();
                        return;
                    }
                }
                catch (OperationCanceledException) { }
            }, CancellationToken.None);
            return lease;
        }

        private void Cancel()
        {
            try { _cancel.Cancel(); }
            catch (ObjectDisposedException) { }
        }

        public void Dispose()
        {
            Cancel();
            _cancel.Dispose();
        }
    }

    /// <summary>Exponential waits (0.5 s doubling to 5 s) between retries: no busy loop while the store is down.</summary>
    private sealed class Backoff
    {
        private static readonly TimeSpan First = TimeSpan.FromMilliseconds(500), Max = TimeSpan.FromSeconds(5);
        private TimeSpan _next = First;

        public void Reset() => _next = First;

        /// <summary>Waits the next delay; false when cancelled.</summary>
        public async Task<bool> WaitAsync(CancellationToken cancellationToken)
        {
            var delay = _next;
            _next = TimeSpan.FromTicks(Math.Min(_next.Ticks * 2, Max.Ticks));
            try
            {
                await Task.Delay(delay, cancellationToken);
                return true;
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }
    }

    /// <summary>Forwards engine progress at most every 250 ms (and always the last report).</summary>
    private sealed class ThrottledProgress(Action<EncodeProgress> forward) : IProgress<EncodeProgress>
    {
        private long _last;
        public void Report(EncodeProgress value)
        {
            long now = Environment.TickCount64;
            if (value.FramesEncoded < value.FramesTotal && now - Interlocked.Read(ref _last) < 250) return;
            Interlocked.Exchange(ref _last, now);
            forward(value);
        }
    }
}
