using Microsoft.Extensions.Logging;
using VQToken.Engine.Checkpoints;
using VQToken.Engine.Checkpoints.Acquisition;
using VQToken.Testing;

namespace VQToken.Engine.Tests.Checkpoints.Download;

/// <summary>The host-facing start-up: status for /readyz, the demo model and its warning, local paths.</summary>
public sealed class ModelStartupTests(HubCheckpointFixture checkpoints) : IClassFixture<HubCheckpointFixture>
{
    // Never contacted: port 9 (discard) on loopback, and the handler dials loopback only anyway.
    private const string UnusedEndpoint = "http://127.0.0.1:9/";

    private static ModelStartup Startup(ModelOptions options, ModelStatus status, ListLogger<ModelStartup> logger) =>
        new(options, status, logger)
        {
            DownloadSettings = new HubDownloadSettings { MaxAttempts = 2, RetryDelay = TimeSpan.Zero },
            DemoWriter = RandomCheckpoint.WriteDemo,
            HttpHandler = LoopbackOnlyHandler.Create(),
        };

    [Fact]
    public async Task Status_is_not_ready_with_a_reason_until_the_host_marks_the_model_loaded()
    {
        await using var hub = await HubStandIn.StartAsync("test-owner/tiny-vqtoken", "main", checkpoints.Single);
        using var cache = new TempDirectory();
        var status = new ModelStatus();
        Assert.Equal(ModelState.Pending, status.State);
        Assert.False(status.IsReady);
        var startup = Startup(new ModelOptions { Repo = "test-owner/tiny-vqtoken", Endpoint = hub.HubUri.ToString(), CacheDir = cache.Path, Token = "" },
            status, new ListLogger<ModelStartup>());

        var model = await startup.ResolveAsync(CancellationToken.None);

        Assert.NotNull(model);
        var snapshot = status.Current;
        Assert.Equal(ModelState.Loading, snapshot.State);
        Assert.False(snapshot.IsReady);
        Assert.Contains("test-owner/tiny-vqtoken", snapshot.Reason);
        Assert.Equal(model.Directory, snapshot.Directory);
        Assert.Equal(checkpoints.Single.Values.Sum(b => (long)b.Length), snapshot.Download?.Bytes);
        status.SetReady("engine loaded");
        Assert.True(status.IsReady);
    }

    [Fact]
    public async Task Failure_leaves_the_status_failed_with_the_reason_and_logs_an_error()
    {
        using var cache = new TempDirectory();
        var status = new ModelStatus();
        var logger = new ListLogger<ModelStartup>();
        var options = new ModelOptions { Repo = "test-owner/tiny-vqtoken", Endpoint = UnusedEndpoint, CacheDir = cache.Path, Offline = true, Token = "" };

        var model = await Startup(options, status, logger).ResolveAsync(CancellationToken.None);

        Assert.Null(model);
        Assert.Equal(ModelState.Failed, status.State);
        Assert.Contains(nameof(ModelAcquisitionError.OfflineCacheMissing), status.Reason);
        Assert.Contains(logger.Entries, e => e.Level == LogLevel.Error);
    }

    [Fact]
    public async Task Demo_mode_generates_a_loadable_tiny_checkpoint_once_and_warns_loudly()
    {
        using var data = new TempDirectory();
        var status = new ModelStatus();
        var logger = new ListLogger<ModelStartup>();
        var options = new ModelOptions { Demo = true, DemoPath = Path.Combine(data.Path, "demo-model"), Endpoint = UnusedEndpoint, Token = "" };

        var model = await Startup(options, status, logger).ResolveAsync(CancellationToken.None);

        Assert.NotNull(model);
        Assert.Equal(ModelSource.Demo, model.Source);
        Assert.Equal(options.DemoPath, model.Directory);
        Assert.True(status.Current.IsDemo);
        Assert.Contains(logger.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("MEANINGLESS"));
        using (var reader = new CheckpointReader(model.Directory)) Assert.Contains("model.embed_tokens.weight", reader.Names);
        Assert.True(File.Exists(Path.Combine(model.Directory, "tokenizer.json")) || File.Exists(Path.Combine(model.Directory, "vocab.json")));

        // A second start reuses the generated checkpoint instead of writing a new one.
        var sentinel = Path.Combine(model.Directory, "sentinel");
        File.WriteAllText(sentinel, "kept");
        var again = await Startup(options, new ModelStatus(), new ListLogger<ModelStartup>()).ResolveAsync(CancellationToken.None);
        Assert.Equal(model.Directory, again?.Directory);
        Assert.True(File.Exists(sentinel));
        Assert.Empty(Directory.GetDirectories(data.Path, "demo-model.tmp-*"));
    }

    [Fact]
    public async Task Local_path_is_used_as_is_and_a_directory_without_config_is_refused()
    {
        using var local = new TempDirectory();
        foreach (var (name, bytes) in checkpoints.Single) File.WriteAllBytes(Path.Combine(local.Path, name), bytes);
        using var empty = new TempDirectory();

        var model = await ModelLocator.ResolveAsync(new ModelOptions { Path = local.Path, Endpoint = UnusedEndpoint, Token = "" }, null, CancellationToken.None);
        var error = await Assert.ThrowsAsync<ModelAcquisitionException>(() =>
            ModelLocator.ResolveAsync(new ModelOptions { Path = empty.Path, Endpoint = UnusedEndpoint, Token = "" }, null, CancellationToken.None));

        Assert.Equal(ModelSource.LocalPath, model.Source);
        Assert.Equal(Path.GetFullPath(local.Path), model.Directory);
        Assert.Equal(ModelAcquisitionError.InvalidOptions, error.Error);
        Assert.Contains("config.json", error.Message);
    }
}
