using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using VQToken.Api.Cache;
using VQToken.Api.Storage;
using VQToken.Api.Videos;
using VQToken.Engine.Checkpoints.Acquisition;
using VQToken.Engine.Runtime;
using VQToken.Engine.Text;
using VQToken.Testing;

namespace VQToken.Api.Inference;

/// <summary>Owns the inference engine for the host: resolves the checkpoint (a local path, a Hugging
/// Face download into the cache, or the tiny demo model), starts the engine (which loads the model on
/// its own thread) without blocking start-up, and exposes the tokenizer, chat template and model
/// fingerprint. Readiness is false, with the reason, until the model is loaded.</summary>
public sealed class ModelHost(IOptions<ModelOptions> modelOptions, IOptions<StorageOptions> storage, IOptions<EngineOptions> engineOptions,
    ModelStatus modelStatus, ILoggerFactory loggers, IOptions<HostOptions> hostOptions) : IHostedService, IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly ILogger _log = loggers.CreateLogger<ModelHost>();
    private readonly TaskCompletionSource _loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private InferenceEngine? _engine;
    private volatile string _status = "starting";

    public QwenTokenizer? Tokenizer { get; private set; }
    public ChatTemplate? Template { get; private set; }
    public string Fingerprint { get; private set; } = "";
    public ModelInfo? Info { get; private set; }
    public string ModelDirectory { get; private set; } = "";

    /// <summary>"starting", "resolving …", "downloading …", "loading", "ready" or "failed: …".</summary>
    public string Status => _status == "resolving" ? $"{modelStatus.State.ToString().ToLowerInvariant()}: {modelStatus.Reason}" : _status;
    public bool IsReady => _loaded.Task.IsCompletedSuccessfully;

    /// <summary>The engine once the model is loaded; otherwise an <see cref="EngineUnavailableException"/> naming why.</summary>
    public InferenceEngine Engine => IsReady ? _engine! : throw new EngineUnavailableException($"the model is not ready ({_status})");

    /// <summary>Completes when the model is loaded (faults when loading failed).</summary>
    public Task Loaded => _loaded.Task;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = Task.Run(LoadAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task LoadAsync()
    {
        try
        {
            _status = "resolving";
            var options = modelOptions.Value;
            // The demo checkpoint lives in the data directory unless Model:DemoPath says otherwise.
            if (options.Demo && string.IsNullOrEmpty(options.DemoPath)) options.DemoPath = Path.Combine(storage.Value.Path, "demo-model");
            var startup = new ModelStartup(options, modelStatus, loggers.CreateLogger<ModelStartup>()) { DemoWriter = RandomCheckpoint.WriteDemo };
            var resolved = await startup.ResolveAsync(_stopping.Token)
                ?? throw new InvalidOperationException(modelStatus.Reason);
            _status = "loading";
            var dir = resolved.Directory;
            ModelDirectory = dir;
            Tokenizer = QwenTokenizer.Load(dir);
            Template = new ChatTemplate(Tokenizer);
            Fingerprint = ModelFingerprint.FromCheckpointDirectory(dir);
            _engine = new InferenceEngine(dir, engineOptions.Value, loggers.CreateLogger<InferenceEngine>());
            Info = await _engine.Ready;
            _status = "ready";
            modelStatus.SetReady($"{resolved.Description} loaded on {Info.Device} ({Info.DType})");
            _loaded.SetResult();
        }
        catch (Exception e)
        {
            _status = "failed: " + e.Message;
            if (!modelStatus.Current.State.Equals(ModelState.Failed)) modelStatus.SetFailed(e.Message);
            _log.LogError(e, "The model could not be loaded");
            _loaded.TrySetException(e);
        }
    }

    /// <summary>Lets running requests finish for at most 80% of the host's shutdown timeout, then aborts
    /// the rest at the engine's next slice, so the host stops within its timeout.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        if (_engine is null) return;
        using var drain = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        drain.CancelAfter(hostOptions.Value.ShutdownTimeout * 0.8);
        await _engine.StopAsync(drain: true, drain.Token);
    }

    public async ValueTask DisposeAsync()
    {
        if (_engine is not null) await _engine.DisposeAsync();
    }
}

/// <summary>Readiness: the model is loaded, the engine's queue is not saturated and the engine is not
/// stuck (work waiting, no step completed for Engine:StallSeconds).</summary>
public sealed class ModelReadinessCheck(ModelHost host, IOptions<EngineOptions> engineOptions) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!host.IsReady) return Task.FromResult(HealthCheckResult.Unhealthy($"model {host.Status}"));
        var engine = host.Engine;
        if (engine.QueueDepth >= engine.MaxQueuedRequests)
            return Task.FromResult(HealthCheckResult.Unhealthy($"engine queue saturated ({engine.QueueDepth} waiting)"));
        double stall = engineOptions.Value.StallSeconds;
        if (stall > 0 && engine.TimeWithoutProgress.TotalSeconds > stall)
            return Task.FromResult(HealthCheckResult.Unhealthy(
                $"engine stuck: no step completed for {engine.TimeWithoutProgress.TotalSeconds:F0} s while requests wait ({engine.QueueDepth} queued)"));
        return Task.FromResult(HealthCheckResult.Healthy($"model ready on {host.Info!.Device} ({host.Info.DType}), {engine.QueueDepth} queued"));
    }
}

/// <summary>Readiness: the video store answers.</summary>
public sealed class StoreReadinessCheck(IVideoStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await store.ListAsync(new VideoQuery("readiness-probe", Limit: 1), cancellationToken);
            return HealthCheckResult.Healthy("store reachable");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("store unreachable: " + e.Message);
        }
    }
}
