using System.Text.Json;
using VQToken.Engine.Checkpoints;
using VQToken.Engine.Checkpoints.Acquisition;

namespace VQToken.Engine.Tests.Checkpoints.Download;

/// <summary>Model download against a stand-in hub on 127.0.0.1 (the real hub is never contacted: the
/// endpoint is the stand-in and the HTTP handler dials loopback only).</summary>
public sealed class HubDownloadTests(HubCheckpointFixture checkpoints) : IClassFixture<HubCheckpointFixture>
{
    private const string Repo = "test-owner/tiny-vqtoken";
    private const string Weights = "model.safetensors";
    private static readonly HubDownloadSettings Fast = new() { MaxAttempts = 3, RetryDelay = TimeSpan.Zero };

    private static ModelOptions Options(HubStandIn hub, string cache, string token = "") => new()
    {
        Repo = Repo, Revision = "main", Endpoint = hub.HubUri.ToString(), CacheDir = cache, Token = token,
    };

    private static Task<ResolvedModel> ResolveAsync(ModelOptions options, IProgress<ModelDownloadProgress>? progress = null) =>
        ModelLocator.ResolveAsync(options, progress, Fast, LoopbackOnlyHandler.Create(), null, CancellationToken.None);

    private static void AssertSameFiles(IReadOnlyDictionary<string, byte[]> expected, string directory)
    {
        foreach (var (name, bytes) in expected)
            Assert.True(bytes.AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(directory, name))), $"{name} differs from the hub's copy");
        Assert.Empty(Directory.GetFiles(directory, "*.partial"));
    }

    [Fact]
    public async Task Full_download_loads_with_CheckpointReader_and_reports_every_byte()
    {
        await using var hub = await HubStandIn.StartAsync(Repo, "main", checkpoints.Single);
        using var cache = new TempDirectory();
        var progress = new RecordingProgress();

        var model = await ResolveAsync(Options(hub, cache.Path), progress);

        Assert.Equal(ModelSource.Downloaded, model.Source);
        Assert.StartsWith(cache.Path, model.Directory);
        AssertSameFiles(checkpoints.Single, model.Directory);
        Assert.False(File.Exists(Path.Combine(model.Directory, "README.md")), "files the service does not need are not downloaded");
        using (var reader = new CheckpointReader(model.Directory))
        {
            Assert.Contains("model.embed_tokens.weight", reader.Names);
            using var embed = reader.Load("model.embed_tokens.weight");
            Assert.Equal(2, embed.shape.Length);
        }
        long total = checkpoints.Single.Values.Sum(b => (long)b.Length);
        var last = progress.Reports[^1];
        Assert.Equal(total, last.TotalBytes);
        Assert.Equal(total, last.Bytes);
        Assert.True(File.Exists(Path.Combine(model.Directory, CacheManifest.FileName)));
    }

    [Fact]
    public async Task Interrupted_transfer_resumes_with_Range_and_transfers_only_the_rest()
    {
        await using var hub = await HubStandIn.StartAsync(Repo, "main", checkpoints.Single);
        using var cache = new TempDirectory();
        long length = checkpoints.Single[Weights].Length, half = length / 2;
        var clientHasHalf = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // The server drops the connection once the client holds the first half (no race on what it received).
        hub.CutOnce(Weights, half, () => clientHasHalf.Task.WaitAsync(TimeSpan.FromSeconds(60)));
        var progress = new RecordingProgress(p =>
        {
            if (p.File == Weights && p.FileBytes >= half) clientHasHalf.TrySetResult();
        });

        var model = await ResolveAsync(Options(hub, cache.Path), progress);

        AssertSameFiles(checkpoints.Single, model.Directory);
        var transfers = hub.Requests.Where(r => r.Server == "cdn" && r.Method == "GET").ToList();
        Assert.Equal(2, transfers.Count);
        Assert.Null(transfers[0].Range);
        Assert.Equal(half, transfers[0].BytesSent);
        Assert.Equal($"bytes={half}-", transfers[1].Range);
        Assert.Equal(length - half, transfers[1].BytesSent);
        Assert.Equal(length, transfers.Sum(t => t.BytesSent));
    }

    [Fact]
    public async Task Corrupted_file_is_rejected_and_never_left_in_the_cache_as_complete()
    {
        await using var hub = await HubStandIn.StartAsync(Repo, "main", checkpoints.Single);
        using var cache = new TempDirectory();
        hub.Corrupt(Weights, times: -1);
        var options = Options(hub, cache.Path);

        var error = await Assert.ThrowsAsync<ModelAcquisitionException>(() => ResolveAsync(options));

        Assert.Equal(ModelAcquisitionError.ChecksumMismatch, error.Error);
        Assert.Contains(Weights, error.Message);
        Assert.Equal(Fast.MaxAttempts, hub.Requests.Count(r => r.Server == "cdn" && r.Method == "GET"));
        var directory = new ModelCache(cache.Path).DirectoryFor(Repo, "main");
        Assert.False(File.Exists(Path.Combine(directory, Weights)));
        Assert.False(File.Exists(Path.Combine(directory, Weights + ".partial")));
        Assert.False(File.Exists(Path.Combine(directory, CacheManifest.FileName)));
        options.Offline = true;
        var offline = await Assert.ThrowsAsync<ModelAcquisitionException>(() => ResolveAsync(options));
        Assert.Equal(ModelAcquisitionError.OfflineCacheMissing, offline.Error);
    }

    [Fact]
    public async Task Corrupted_transfer_is_downloaded_again_from_the_start()
    {
        await using var hub = await HubStandIn.StartAsync(Repo, "main", checkpoints.Single);
        using var cache = new TempDirectory();
        hub.Corrupt(Weights, times: 1);

        var model = await ResolveAsync(Options(hub, cache.Path));

        AssertSameFiles(checkpoints.Single, model.Directory);
        var transfers = hub.Requests.Where(r => r.Server == "cdn" && r.Method == "GET").ToList();
        Assert.Equal(2, transfers.Count);
        Assert.All(transfers, t => Assert.Null(t.Range)); // corrupt bytes are not resumed from
    }

    [Fact]
    public async Task Token_is_sent_to_the_hub_only_and_its_absence_is_a_clear_error()
    {
        await using var hub = await HubStandIn.StartAsync(Repo, "main", checkpoints.Single);
        hub.RequiredToken = "hf_test_token";
        using var cache = new TempDirectory();

        var refused = await Assert.ThrowsAsync<ModelAcquisitionException>(() => ResolveAsync(Options(hub, cache.Path)));
        Assert.Equal(ModelAcquisitionError.Unauthorized, refused.Error);
        Assert.Contains("HF_TOKEN", refused.Message);

        var model = await ResolveAsync(Options(hub, cache.Path, token: "hf_test_token"));
        AssertSameFiles(checkpoints.Single, model.Directory);
        var withToken = hub.Requests.Where(r => r.Authorization is not null).ToList();
        Assert.NotEmpty(withToken);
        Assert.All(withToken, r => Assert.Equal("Bearer hf_test_token", r.Authorization));
        Assert.Contains(hub.Requests, r => r.Server == "hub" && r.Path.Contains("/resolve/") && r.Authorization is not null);
        // The LFS redirect goes to another origin: the token must not follow it.
        var cdn = hub.Requests.Where(r => r.Server == "cdn").ToList();
        Assert.NotEmpty(cdn);
        Assert.All(cdn, r => Assert.Null(r.Authorization));
    }

    [Fact]
    public async Task Offline_without_cache_fails_clearly_without_touching_the_network()
    {
        await using var hub = await HubStandIn.StartAsync(Repo, "main", checkpoints.Single);
        using var cache = new TempDirectory();
        var options = Options(hub, cache.Path);
        options.Offline = true;

        var error = await Assert.ThrowsAsync<ModelAcquisitionException>(() => ResolveAsync(options));

        Assert.Equal(ModelAcquisitionError.OfflineCacheMissing, error.Error);
        Assert.Contains("Model:Offline", error.Message);
        Assert.Contains(Repo, error.Message);
        Assert.Empty(hub.Requests);
    }

    [Fact]
    public async Task Offline_with_a_complete_cache_uses_it_without_touching_the_network()
    {
        await using var hub = await HubStandIn.StartAsync(Repo, "main", checkpoints.Single);
        using var cache = new TempDirectory();
        var downloaded = await ResolveAsync(Options(hub, cache.Path));
        int requestsAfterDownload = hub.Requests.Count;
        var options = Options(hub, cache.Path);
        options.Offline = true;

        var offline = await ResolveAsync(options);
        options.Offline = false;
        var online = await ResolveAsync(options);

        Assert.Equal(ModelSource.Cache, offline.Source);
        Assert.Equal(downloaded.Directory, offline.Directory);
        Assert.Equal(ModelSource.Cache, online.Source);
        Assert.Equal(requestsAfterDownload, hub.Requests.Count);
        using var reader = new CheckpointReader(offline.Directory);
        Assert.NotEmpty(reader.Names);
    }

    [Fact]
    public async Task Sharded_checkpoint_is_downloaded_shard_by_shard_from_the_index_when_there_is_no_listing()
    {
        await using var hub = await HubStandIn.StartAsync(Repo, "main", checkpoints.Sharded);
        hub.ListingEnabled = false;
        using var cache = new TempDirectory();

        var model = await ResolveAsync(Options(hub, cache.Path));

        var shards = checkpoints.Sharded.Keys.Where(k => k.EndsWith(".safetensors", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, shards.Count);
        AssertSameFiles(checkpoints.Sharded, model.Directory);
        Assert.All(shards, s => Assert.Contains(hub.Requests, r => r.Server == "hub" && r.Method == "HEAD" && r.Path.EndsWith("/resolve/main/" + s)));
        Assert.All(shards, s => Assert.Contains(hub.Requests,
            r => r.Server == "cdn" && r.Method == "GET" && r.Path == "/blobs/" + HubStandIn.Sha256(checkpoints.Sharded[s])));
        using var index = JsonDocument.Parse(checkpoints.Sharded[CheckpointReader.IndexFileName]);
        using var reader = new CheckpointReader(model.Directory);
        Assert.Equal(index.RootElement.GetProperty("weight_map").EnumerateObject().Count(), reader.Names.Count());
    }

    [Fact]
    public async Task Unknown_repository_is_reported_as_not_found()
    {
        await using var hub = await HubStandIn.StartAsync(Repo, "main", checkpoints.Single);
        using var cache = new TempDirectory();
        var options = Options(hub, cache.Path);
        options.Repo = "test-owner/absent";

        var error = await Assert.ThrowsAsync<ModelAcquisitionException>(() => ResolveAsync(options));

        Assert.Equal(ModelAcquisitionError.NotFound, error.Error);
        Assert.Contains("Model:Repo", error.Message);
    }
}
