using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using VQToken.Api.Cache;
using VQToken.Api.ServiceDefaults;
using VQToken.Api.Tests.Infrastructure;
using VQToken.Api.Videos;

namespace VQToken.Api.Tests.Videos;

/// <summary>DELETE arriving in the windows a real race cannot be timed into: the storage calls of the
/// upload and of the worker are held at a gate (a test decorator over the real file stores) while the
/// DELETE runs; afterwards nothing of the video may be left on disk.</summary>
public sealed class DeleteRaceTests : IAsyncLifetime
{
    private readonly GatedServiceFactory _factory = new();
    private HttpClient _client = null!;

    public async Task InitializeAsync() => _client = await _factory.ReadyClientAsync();

    public Task DisposeAsync()
    {
        _factory.Gate.Open();
        _factory.Dispose();
        return Task.CompletedTask;
    }

    [Theory]
    [InlineData(GatePoint.AfterStage)]
    [InlineData(GatePoint.AfterCommit)]
    public async Task Delete_during_upload_staging_answers_410_to_the_upload_and_leaves_no_source(GatePoint point)
    {
        _factory.Gate.Arm(point);
        var upload = _client.UploadAsync(TestVideos.Mp4(70 + (int)point), new Dictionary<string, string> { ["frames"] = "2", ["k"] = "4" });
        await _factory.Gate.Entered.WaitAsync(TimeSpan.FromSeconds(60));
        var listed = await ApiClient.BodyAsync(await _client.GetAsync("/videos?limit=500"));
        var id = (string)listed["items"]!.AsArray().Single()!["id"]!;

        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/videos/{id}")).StatusCode);
        _factory.Gate.Open();
        var (status, body, _) = await upload;

        ApiClient.AssertProblem(HttpStatusCode.Gone, Problems.NotFound, status, body);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync($"/videos/{id}")).StatusCode);
        await AssertNothingLeftAsync(id);
    }

    [Fact]
    public async Task Delete_while_the_worker_stores_the_cache_entry_leaves_no_entry_behind()
    {
        _factory.Gate.Arm(GatePoint.BeforePut);
        var (status, body, _) = await _client.UploadAsync(TestVideos.Mp4(75), new Dictionary<string, string> { ["frames"] = "2", ["k"] = "4" });
        Assert.Equal(HttpStatusCode.Accepted, status);
        var id = (string)body["id"]!;
        await _factory.Gate.Entered.WaitAsync(TimeSpan.FromSeconds(120));   // encoded; the entry is about to be written

        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/videos/{id}")).StatusCode);
        _factory.Gate.Open();
        await _factory.Gate.Passed.WaitAsync(TimeSpan.FromSeconds(60));     // the entry was written after the DELETE

        var until = DateTime.UtcNow.AddSeconds(10);
        var cache = _factory.Services.GetRequiredService<ICompressedCache>();
        while ((await cache.ListAsync()).Any(e => e.VideoId == id) && DateTime.UtcNow < until) await Task.Delay(50);
        await AssertNothingLeftAsync(id);
    }

    private async Task AssertNothingLeftAsync(string id)
    {
        var services = _factory.Services;
        Assert.DoesNotContain(await services.GetRequiredService<ISourceStore>().ListAsync(), s => s.VideoId == id);
        Assert.DoesNotContain(await services.GetRequiredService<ICompressedCache>().ListAsync(), e => e.VideoId == id);
        Assert.Empty(Directory.GetFiles(Path.Combine(_factory.DataDirectory, "sources"), "*", SearchOption.AllDirectories));
        Assert.Empty(Directory.GetFiles(Path.Combine(_factory.DataDirectory, "cache"), "*", SearchOption.AllDirectories));
    }

    public enum GatePoint { AfterStage, AfterCommit, BeforePut }

    /// <summary>Holds the first call at the armed point until <see cref="Open"/>.</summary>
    public sealed class Gate
    {
        private int _armed = -1;
        private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource EnteredSource { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource PassedSource { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public Task Entered => EnteredSource.Task;
        public Task Passed => PassedSource.Task;

        public void Arm(GatePoint point) => Volatile.Write(ref _armed, (int)point);
        public void Open() => _open.TrySetResult();

        public async Task<bool> HoldAsync(GatePoint point)
        {
            if (Interlocked.CompareExchange(ref _armed, -1, (int)point) != (int)point) return false;
            EnteredSource.TrySetResult();
            await _open.Task;
            return true;
        }
    }

    private sealed class GatedSourceStore(ISourceStore inner, Gate gate) : ISourceStore
    {
        public async Task<StagedSource> StageAsync(Stream content, CancellationToken cancellationToken = default)
        {
            var staged = await inner.StageAsync(content, cancellationToken);
            await gate.HoldAsync(GatePoint.AfterStage);
            return staged;
        }

        public async Task<string> CommitAsync(StagedSource staged, string videoId, CancellationToken cancellationToken = default)
        {
            var path = await inner.CommitAsync(staged, videoId, cancellationToken);
            await gate.HoldAsync(GatePoint.AfterCommit);
            return path;
        }

        public Task DiscardAsync(StagedSource staged, CancellationToken cancellationToken = default) => inner.DiscardAsync(staged, cancellationToken);
        public Task<string?> GetPathAsync(string videoId, CancellationToken cancellationToken = default) => inner.GetPathAsync(videoId, cancellationToken);
        public Task<bool> DeleteAsync(string videoId, CancellationToken cancellationToken = default) => inner.DeleteAsync(videoId, cancellationToken);
        public Task<IReadOnlyList<StoredItem>> ListAsync(CancellationToken cancellationToken = default) => inner.ListAsync(cancellationToken);
        public Task<int> DeleteStagedBeforeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default) => inner.DeleteStagedBeforeAsync(cutoff, cancellationToken);
    }

    private sealed class GatedCache(ICompressedCache inner, Gate gate) : ICompressedCache
    {
        public async Task PutAsync(string videoId, CacheEntry entry, CancellationToken cancellationToken = default)
        {
            bool held = await gate.HoldAsync(GatePoint.BeforePut);
            await inner.PutAsync(videoId, entry, cancellationToken);
            if (held) gate.PassedSource.TrySetResult();
        }

        public Task<CacheLookup> GetAsync(string videoId, string modelFingerprint, CancellationToken cancellationToken = default) => inner.GetAsync(videoId, modelFingerprint, cancellationToken);
        public Task<bool> DeleteAsync(string videoId, string modelFingerprint, CancellationToken cancellationToken = default) => inner.DeleteAsync(videoId, modelFingerprint, cancellationToken);
        public Task<int> DeleteAllAsync(string videoId, CancellationToken cancellationToken = default) => inner.DeleteAllAsync(videoId, cancellationToken);
        public Task<IReadOnlyList<StoredItem>> ListAsync(CancellationToken cancellationToken = default) => inner.ListAsync(cancellationToken);
    }

    /// <summary>The service over the file stores, with the gated decorators in front of them.</summary>
    private sealed class GatedServiceFactory : ServiceFactory
    {
        public Gate Gate { get; } = new();

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(services =>
            {
                services.AddSingleton<ISourceStore>(sp => new GatedSourceStore(
                    new DirectorySourceStore(Path.Combine(DataDirectory, "sources"), sp.GetRequiredService<TimeProvider>()), Gate));
                services.AddSingleton<ICompressedCache>(sp => new GatedCache(
                    new FileCompressedCache(Path.Combine(DataDirectory, "cache"), sp.GetRequiredService<TimeProvider>()), Gate));
            });
        }
    }
}
