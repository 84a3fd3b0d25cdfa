using System.Diagnostics;
using Microsoft.Extensions.Options;
using VQToken.Api.Inference;
using VQToken.Api.ServiceDefaults;
using VQToken.Api.Storage;
using VQToken.Engine.Runtime;
using VQToken.Engine.Video;

namespace VQToken.Api.Videos;

/// <summary>Settings of the background processing (section <c>Processing</c>).</summary>
public sealed class ProcessingOptions
{
    public const string Section = "Processing";
    /// <summary>Videos processed at once by this replica (their frames share the engine's vision batches).</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 64)] public int Workers { get; set; } = 2;
    /// <summary>Attempts before a video that keeps failing unexpectedly is marked failed.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 100)] public int MaxAttempts { get; set; } = 3;
}

/// <summary>The processing loop of a replica: takes jobs from the queue (local or a Redis stream
/// shared by all replicas), samples frames with ffmpeg, has the engine encode and compress them,
/// stores the compressed entry and marks the video ready — or failed with the reason. On start,
/// videos left queued/processing by a crash are re-enqueued.</summary>
public sealed class VideoProcessor(
    IVideoStore videos, ICompressedCache cache, ISourceStore sources, IJobQueue queue, FrameSampler sampler,
    ModelHost model, IOptions<ProcessingOptions> options, ILogger<VideoProcessor> log) : BackgroundService
{
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
        foreach (var video in await videos.RecoverInterruptedAsync(stoppingToken))
        {
            log.LogInformation("Re-enqueueing video {VideoId} left {Status}", video.Id, video.Status);
            await queue.EnqueueAsync(video.Id, stoppingToken);
        }
        await Task.WhenAll(Enumerable.Range(0, options.Value.Workers).Select(_ => WorkAsync(stoppingToken)));
    }

    private async Task WorkAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            VideoJob job;
            try
            {
                job = await queue.DequeueAsync(stoppingToken);
            }
            catch (OperationCanceledException) { return; }
            catch (Exception e)
            {
                log.LogWarning(e, "Taking a job from the queue failed; retrying");
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ContinueWith(_ => { });
                continue;
            }
            bool done = await ProcessAsync(job, stoppingToken);
            if (done) await queue.AckAsync(job, CancellationToken.None);
        }
    }

    /// <summary>Processes one job; returns whether it is finished (ack) — false leaves it to be
    /// redelivered (shutdown mid-job, engine overloaded).</summary>
    internal async Task<bool> ProcessAsync(VideoJob job, CancellationToken stoppingToken)
    {
        var record = await videos.GetAsync(job.VideoId, stoppingToken);
        if (record is null || record.Status is VideoStatus.Ready or VideoStatus.Failed) return true;   // deleted or already done
        using var activity = EngineMetrics.Activities.StartActivity("video.process");
        activity?.SetTag("video.id", record.Id);
        var stages = new Dictionary<string, double>();
        var clock = Stopwatch.StartNew();
        try
        {
            var started = await videos.UpdateAsync(record.Id, r => r with
            {
                Status = VideoStatus.Processing, Attempts = r.Attempts + 1, Reason = null, Progress = new VideoProgress("frames", 0),
            }, stoppingToken);
            if (started.Outcome != VideoUpdateOutcome.Updated) return true;
            if (started.Video!.Attempts > options.Value.MaxAttempts)
            {
                await Fail(record.Id, $"processing failed {options.Value.MaxAttempts} times; giving up");
                return true;
            }
            var path = await sources.GetPathAsync(record.Id, stoppingToken);
            if (path is null)
            {
                await Fail(record.Id, "the source video is no longer stored; upload it again");
                return true;
            }

            using var heartbeat = KeepAlive(job, stoppingToken);
            using var sampled = await sampler.SampleAsync(path, new FrameRequest(record.Settings.Frames), stoppingToken);
            stages["frames"] = clock.Elapsed.TotalMilliseconds;
            var info = sampled.Video;
            await videos.UpdateAsync(record.Id, r => r with
            {
                Probe = new Storage.VideoProbe(info.DurationSeconds, info.FrameRate, info.Width, info.Height, info.CodecName),
                Progress = new VideoProgress("vision", 0),
            }, stoppingToken);

            var progress = new ThrottledProgress(p => _ = videos.UpdateAsync(record.Id, r => r.Status == VideoStatus.Processing
                ? r with { Progress = new VideoProgress(p.Stage == "compressed" ? "compress" : "vision", (double)p.FramesEncoded / p.FramesTotal) } : r));
            var encoding = await model.Engine.EncodeAsync(
                new EncodeRequest(record.Id, sampled.Rgb, record.Settings.Mode, EncodingConversion.ToEngine(record.Settings, model.Info!.HasVQAttention)),
                progress, stoppingToken);
            stages["vision"] = encoding.VisionMs;
            stages["compress"] = encoding.CompressionMs;

            await cache.PutAsync(record.Id, EncodingConversion.ToEntry(encoding, record.Settings, model.Fingerprint), stoppingToken);
            stages["total"] = clock.Elapsed.TotalMilliseconds;
            var finished = await videos.UpdateAsync(record.Id, r => r with
            {
                Status = VideoStatus.Ready, Progress = new VideoProgress("ready", 1), Reason = null,
                Tokens = new TokenCounts(encoding.OriginalTokens, encoding.VisualTokens), StageMilliseconds = stages,
            }, CancellationToken.None);
            if (finished.Outcome == VideoUpdateOutcome.NotFound)
            {
                // Deleted meanwhile: a DELETE removes the record before the cache entries, so it may have
                // swept the cache before this entry was written; what it could not see is removed here.
                await cache.DeleteAllAsync(record.Id, CancellationToken.None);
                await sources.DeleteAsync(record.Id, CancellationToken.None);
                log.LogInformation("Video {VideoId} was deleted while it was processed; its entry is discarded", record.Id);
                return true;
            }
            log.LogInformation("Video {VideoId} ready: {Original} → {Visual} visual tokens in {Ms:F0} ms", record.Id, encoding.OriginalTokens, encoding.VisualTokens, stages["total"]);
            return true;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: leave it processing; recovery (or the queue's reclaim) picks it up again.
            return false;
        }
        catch (EngineOverloadedException)
        {
            await videos.UpdateAsync(record.Id, r => r with { Status = VideoStatus.Queued, Progress = null }, CancellationToken.None);
            await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ContinueWith(_ => { });
            return false;
        }
        catch (VideoIngestException e)
        {
            await Fail(record.Id, e.Message);
            return true;
        }
        catch (Exception e) when (e is EngineUnavailableException or ArgumentException or InvalidDataException or IOException)
        {
            log.LogError(e, "Processing video {VideoId} failed", record.Id);
            await Fail(record.Id, "processing failed: " + e.Message);
            return true;
        }
    }

    private Task Fail(string id, string reason) =>
        videos.UpdateAsync(id, r => r with { Status = VideoStatus.Failed, Reason = reason, Progress = null }, CancellationToken.None);

    /// <summary>Tells the queue the job is alive while it runs, so no other replica reclaims it.</summary>
    private IDisposable KeepAlive(VideoJob job, CancellationToken stoppingToken)
    {
        var stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        _ = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(15));
            try { while (await timer.WaitForNextTickAsync(stop.Token)) await queue.KeepAliveAsync(job, stop.Token); }
            catch (OperationCanceledException) { }
        });
        return new CancelOnDispose(stop);
    }

    private sealed class CancelOnDispose(CancellationTokenSource source) : IDisposable
    {
        public void Dispose() { source.Cancel(); source.Dispose(); }
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
