using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;
using VQToken.Api.Cache;
using VQToken.Api.Inference;
using VQToken.Api.Processing;
using VQToken.Api.Tests.Infrastructure;
using VQToken.Api.Videos;
using VQToken.Engine.Runtime;

namespace VQToken.Api.Tests.Videos;

/// <summary>Faults inside the processing worker that the real parts cannot be made to produce on cue
/// (an exception type nobody expects, the engine's queue full, the store failing while a failure is
/// recorded): injected at the encoder or store seam, everything else real.</summary>
public class WorkerFaultTests
{
    [Fact]
    public async Task Unexpected_exception_fails_that_video_after_MaxAttempts_and_the_next_video_is_processed()
    {
        var encoder = new FaultyEncoder(call => call <= 3 ? new UnforeseenException("the encoder tripped") : null);
        using var factory = new FaultFactory(encoder, settings: new() { ["Processing:Workers"] = "1", ["Processing:MaxAttempts"] = "3" });
        var client = await factory.ReadyClientAsync();

        var (_, first, _) = await client.UploadAsync(TestVideos.Mp4(80));
        var (_, second, _) = await client.UploadAsync(TestVideos.Mp4(81));

        var failed = await client.WaitProcessedAsync((string)first["id"]!, TimeSpan.FromSeconds(60));
        Assert.Equal("failed", (string?)failed["status"]);
        Assert.Contains("the encoder tripped", (string?)failed["reason"]);
        Assert.Equal(3, (await factory.Record((string)first["id"]!)).Attempts);
        Assert.Equal("ready", (string?)(await client.WaitProcessedAsync((string)second["id"]!, TimeSpan.FromSeconds(60)))["status"]);
        factory.AssertHostRunning();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task Exception_thrown_while_recording_a_failure_does_not_stop_the_worker()
    {
        // Every encode of the first video is a plain failure; recording the first failure throws.
        var encoder = new FaultyEncoder(call => call <= 2 ? new InvalidDataException("frames unreadable") : null);
        using var factory = new FaultFactory(encoder, failFirstFailedUpdate: true, settings: new() { ["Processing:Workers"] = "1" });
        var client = await factory.ReadyClientAsync();

        var (_, first, _) = await client.UploadAsync(TestVideos.Mp4(82));
        var (_, second, _) = await client.UploadAsync(TestVideos.Mp4(83));

        var failed = await client.WaitProcessedAsync((string)first["id"]!, TimeSpan.FromSeconds(60));
        Assert.Equal("failed", (string?)failed["status"]);
        Assert.Contains("frames unreadable", (string?)failed["reason"]);
        Assert.Equal(1, factory.FailedUpdatesThrown);
        Assert.Equal("ready", (string?)(await client.WaitProcessedAsync((string)second["id"]!, TimeSpan.FromSeconds(60)))["status"]);
        factory.AssertHostRunning();
    }

    [Fact]
    public async Task Engine_overload_in_the_worker_is_retried_within_seconds_and_not_counted_as_an_attempt()
    {
        // The default JobIdleTimeout (5 min) is far beyond the wait: only a prompt retry can finish it.
        var encoder = new FaultyEncoder(call => call <= 2 ? new EngineOverloadedException(256, TimeSpan.FromSeconds(1)) : null);
        using var factory = new FaultFactory(encoder, settings: new() { ["Processing:Workers"] = "1" });
        var client = await factory.ReadyClientAsync();

        var (_, body, _) = await client.UploadAsync(TestVideos.Mp4(84));
        var id = (string)body["id"]!;

        Assert.Equal("ready", (string?)(await client.WaitProcessedAsync(id, TimeSpan.FromSeconds(30)))["status"]);
        Assert.Equal(3, encoder.Calls);
        Assert.Equal(1, (await factory.Record(id)).Attempts);
    }

    [Fact]
    public async Task Job_longer_than_a_short_JobIdleTimeout_is_processed_once()
    {
        // A job three times the idle timeout, with a second worker polling for idle jobs to reclaim.
        var encoder = new FaultyEncoder(_ => null, delay: TimeSpan.FromSeconds(9));
        using var factory = new FaultFactory(encoder, settings: new() { ["Storage:JobIdleTimeout"] = "00:00:03", ["Processing:Workers"] = "2" });
        var client = await factory.ReadyClientAsync();

        var (_, body, _) = await client.UploadAsync(TestVideos.Mp4(85));
        var id = (string)body["id"]!;

        Assert.Equal("ready", (string?)(await client.WaitProcessedAsync(id, TimeSpan.FromSeconds(60)))["status"]);
        await Task.Delay(TimeSpan.FromSeconds(4));   // a reclaim that was going to happen would have by now
        Assert.Equal(1, encoder.Calls);
        Assert.Equal(1, (await factory.Record(id)).Attempts);
    }

    [Fact]
    public async Task Upload_cut_by_a_store_outage_before_its_job_is_processed_when_the_client_retries()
    {
        // The store goes away after the record is written: adding the job fails, and so does marking the
        // record failed, leaving it queued with no job. The client's retry gets that video back — and its job.
        static Exception Outage() => new RedisConnectionException(ConnectionFailureType.SocketFailure, "No connection is active/available");
        using var factory = new FaultFactory(new FaultyEncoder(_ => null), failFirstFailedUpdate: true, failure: Outage, enqueueFault: Outage);
        var client = await factory.ReadyClientAsync();

        var (cut, problem, response) = await client.UploadAsync(TestVideos.Mp4(86));
        ApiClient.AssertProblem(HttpStatusCode.ServiceUnavailable, "urn:vqtoken:problem:store-unavailable", cut, problem);
        Assert.NotNull(response.Headers.RetryAfter);
        var (retried, body, _) = await client.UploadAsync(TestVideos.Mp4(86));

        Assert.Equal(HttpStatusCode.OK, retried);   // the video the first try stored (same bytes, same settings)
        Assert.Equal("ready", (string?)(await client.WaitProcessedAsync((string)body["id"]!, TimeSpan.FromSeconds(60)))["status"]);
    }

    [Fact]
    public async Task Store_outage_after_the_encode_is_waited_out_without_encoding_again()
    {
        var encoder = new FaultyEncoder(_ => null);
        using var factory = new FaultFactory(encoder, cacheOutages: 3);
        var client = await factory.ReadyClientAsync();

        var (_, body, _) = await client.UploadAsync(TestVideos.Mp4(87));
        var id = (string)body["id"]!;

        Assert.Equal("ready", (string?)(await client.WaitProcessedAsync(id, TimeSpan.FromSeconds(60)))["status"]);
        Assert.Equal(1, encoder.Calls);
        Assert.Equal(1, (await factory.Record(id)).Attempts);
        factory.AssertHostRunning();
    }

    private sealed class UnforeseenException(string message) : Exception(message);

    /// <summary>The real engine's encode, optionally slowed, with the fault <c>fault(call number)</c>
    /// returns thrown instead (null: no fault) — counting calls.</summary>
    private sealed class FaultyEncoder(Func<int, Exception?> fault, TimeSpan? delay = null)
    {
        private int _calls;
        public int Calls => Volatile.Read(ref _calls);

        public IVideoEncoder Over(IVideoEncoder real) => new Encoder(this, real);

        private async Task<VideoEncoding> EncodeAsync(IVideoEncoder real, EncodeRequest request, IProgress<EncodeProgress>? progress, CancellationToken cancellationToken)
        {
            if (fault(Interlocked.Increment(ref _calls)) is { } e) throw e;
            if (delay is { } wait) await Task.Delay(wait, cancellationToken);
            return await real.EncodeAsync(request, progress, cancellationToken);
        }

        private sealed class Encoder(FaultyEncoder owner, IVideoEncoder real) : IVideoEncoder
        {
            public Task<VideoEncoding> EncodeAsync(EncodeRequest request, IProgress<EncodeProgress>? progress, CancellationToken cancellationToken) =>
                owner.EncodeAsync(real, request, progress, cancellationToken);
        }
    }

    /// <summary>The service with the encoder wrapped in a fault and, optionally, a store whose first
    /// update to <c>failed</c> throws (<paramref name="failure"/>, default an unforeseen exception) and a
    /// queue whose first enqueue throws <paramref name="enqueueFault"/>.</summary>
    private sealed class FaultFactory(FaultyEncoder encoder, bool failFirstFailedUpdate = false, Dictionary<string, string?>? settings = null,
        Func<Exception>? failure = null, Func<Exception>? enqueueFault = null, int cacheOutages = 0)
        : ServiceFactory(settings)
    {
        private ThrowOnFirstFailure? _store;
        public int FailedUpdatesThrown => _store?.Thrown ?? 0;

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(services =>
            {
                services.AddSingleton(sp => encoder.Over(new EngineVideoEncoder(sp.GetRequiredService<ModelHost>())));
                if (failFirstFailedUpdate)
                {
                    var real = services.Last(d => d.ServiceType == typeof(IVideoStore));
                    services.AddSingleton<IVideoStore>(sp => _store = new ThrowOnFirstFailure((IVideoStore)real.ImplementationFactory!(sp),
                        failure ?? (() => new UnforeseenException("the store tripped while recording a failure"))));
                }
                if (cacheOutages > 0)
                {
                    var real = services.Last(d => d.ServiceType == typeof(ICompressedCache));
                    services.AddSingleton<ICompressedCache>(sp => new UnreachableForPuts((ICompressedCache)real.ImplementationFactory!(sp), cacheOutages));
                }
                if (enqueueFault is not null)
                {
                    var real = services.Last(d => d.ServiceType == typeof(IJobQueue));
                    services.AddSingleton<IJobQueue>(sp => new ThrowOnFirstEnqueue((IJobQueue)real.ImplementationFactory!(sp), enqueueFault));
                }
            });
        }

        public async Task<VideoRecord> Record(string id) =>
            await Services.GetRequiredService<IVideoStore>().GetAsync(id) ?? throw new InvalidOperationException($"no video {id}");

        public void AssertHostRunning() =>
            Assert.False(Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested, "the host is stopping");
    }

    /// <summary>The cache as a store that is unreachable for its first <paramref name="outages"/> writes.</summary>
    private sealed class UnreachableForPuts(ICompressedCache inner, int outages) : ICompressedCache
    {
        private int _puts;

        public Task PutAsync(string videoId, CacheEntry entry, CancellationToken cancellationToken = default) =>
            Interlocked.Increment(ref _puts) <= outages
                ? throw new RedisConnectionException(ConnectionFailureType.SocketFailure, "No connection is active/available")
                : inner.PutAsync(videoId, entry, cancellationToken);

        public Task<CacheLookup> GetAsync(string videoId, string modelFingerprint, CancellationToken cancellationToken = default) => inner.GetAsync(videoId, modelFingerprint, cancellationToken);
        public Task<bool> DeleteAsync(string videoId, string modelFingerprint, CancellationToken cancellationToken = default) => inner.DeleteAsync(videoId, modelFingerprint, cancellationToken);
        public Task<int> DeleteAllAsync(string videoId, CancellationToken cancellationToken = default) => inner.DeleteAllAsync(videoId, cancellationToken);
        public Task<IReadOnlyList<StoredItem>> ListAsync(CancellationToken cancellationToken = default) => inner.ListAsync(cancellationToken);
    }

    private sealed class ThrowOnFirstEnqueue(IJobQueue inner, Func<Exception> fault) : IJobQueue
    {
        private int _thrown;

        public Task<bool> EnqueueAsync(string videoId, CancellationToken cancellationToken = default) =>
            Interlocked.CompareExchange(ref _thrown, 1, 0) == 0 ? throw fault() : inner.EnqueueAsync(videoId, cancellationToken);

        public Task<VideoJob> DequeueAsync(CancellationToken cancellationToken = default) => inner.DequeueAsync(cancellationToken);
        public Task<bool> KeepAliveAsync(VideoJob job, CancellationToken cancellationToken = default) => inner.KeepAliveAsync(job, cancellationToken);
        public Task AckAsync(VideoJob job, CancellationToken cancellationToken = default) => inner.AckAsync(job, cancellationToken);
        public Task CheckAsync(CancellationToken cancellationToken = default) => inner.CheckAsync(cancellationToken);
    }

    private sealed class ThrowOnFirstFailure(IVideoStore inner, Func<Exception> failure) : IVideoStore
    {
        private int _thrown;
        public int Thrown => Volatile.Read(ref _thrown);

        public async Task<VideoUpdateResult> UpdateAsync(string id, Func<VideoRecord, VideoRecord> change, CancellationToken cancellationToken = default)
        {
            if (await inner.GetAsync(id, cancellationToken) is { } current && change(current).Status == VideoStatus.Failed
                && Interlocked.CompareExchange(ref _thrown, 1, 0) == 0)
                throw failure();
            return await inner.UpdateAsync(id, change, cancellationToken);
        }

        public Task<VideoCreation> CreateOrGetExistingAsync(VideoRecord candidate, CancellationToken cancellationToken = default) => inner.CreateOrGetExistingAsync(candidate, cancellationToken);
        public Task<VideoRecord?> GetAsync(string id, CancellationToken cancellationToken = default) => inner.GetAsync(id, cancellationToken);
        public Task<VideoRecord?> GetOwnedAsync(string owner, string id, CancellationToken cancellationToken = default) => inner.GetOwnedAsync(owner, id, cancellationToken);
        public Task<VideoUpdateResult> RequeueAsync(string id, string reason, CancellationToken cancellationToken = default) => inner.RequeueAsync(id, reason, cancellationToken);
        public Task<VideoPage> ListAsync(VideoQuery query, CancellationToken cancellationToken = default) => inner.ListAsync(query, cancellationToken);
        public Task<bool> DeleteAsync(string id, CancellationToken cancellationToken = default) => inner.DeleteAsync(id, cancellationToken);
        public Task<IReadOnlyList<VideoRecord>> RecoverInterruptedAsync(CancellationToken cancellationToken = default) => inner.RecoverInterruptedAsync(cancellationToken);
    }
}
