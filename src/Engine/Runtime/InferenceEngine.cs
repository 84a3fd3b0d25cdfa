using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using VQToken.Engine.Compression;
using VQToken.Engine.Core;
using VQToken.Engine.Models;

namespace VQToken.Engine.Runtime;

/// <summary>The engine's front door: validates requests, queues them for the <see cref="EngineCore"/> (one
/// device thread: the scheduler decides each step, the model runner executes it) and hands back tasks.
/// Each step is bounded work, so asks never starve behind a long video or a long prompt, and cancellation
/// and shutdown take effect between steps.</summary>
public sealed class InferenceEngine : IAsyncDisposable
{
    private readonly EngineOptions _options;
    private readonly ILogger _log;
    private readonly EngineCore _core;
    private volatile bool _disposed;

    public EngineMetrics Metrics { get; }

    public InferenceEngine(string modelPath, EngineOptions options, ILogger<InferenceEngine>? logger = null)
    {
        _options = options;
        _log = (ILogger?)logger ?? NullLogger.Instance;
        EngineCore? core = null;
        Metrics = new EngineMetrics(() => core?.Queued ?? 0, () => core?.RunningSequences ?? 0, () => core?.Runner?.PrefixCacheBytes ?? 0);
        _core = core = new EngineCore(modelPath, options, _log, Metrics);
    }

    /// <summary>Completes when the model is loaded (faults when loading failed).</summary>
    public Task<ModelInfo> Ready => _core.Ready;
    public bool IsReady => _core.Ready.IsCompletedSuccessfully;

    /// <summary>Requests queued but not yet taken by the engine thread.</summary>
    public int QueueDepth => _core.Queued;
    public int MaxQueuedRequests => _options.MaxQueuedRequests;

    /// <summary>Largest number of sequences seen in one decode step since start.</summary>
    public int MaxDecodeBatch => _core.Runner?.MaxDecodeBatch ?? 0;
    public long PrefixCacheHits => _core.Runner?.PrefixCacheHits ?? 0;
    public long PrefixCacheMisses => _core.Runner?.PrefixCacheMisses ?? 0;

    /// <summary>Engine steps completed since start.</summary>
    public long Steps => _core.Steps;

    /// <summary>How long work has been waiting without the engine completing a step: zero while it is
    /// idle or stepping normally; growing while one step hangs (a stuck device call, a blocked callback).</summary>
    public TimeSpan TimeWithoutProgress
    {
        get
        {
            long since = _core.ProgressTicks;
            if (EngineCore.IsIdle(since) || (QueueDepth == 0 && _core.Held == 0)) return TimeSpan.Zero;
            return TimeSpan.FromMilliseconds(Math.Max(0, Environment.TickCount64 - since));
        }
    }

    /// <summary>Encodes and compresses a video's frames. Progress is reported from the engine thread.</summary>
    public Task<VideoEncoding> EncodeAsync(EncodeRequest request, IProgress<EncodeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if ((request.Frames is null) == (request.Stream is null)) throw new ArgumentException("an encode request has either its frames or a frame stream");
        request.Frames?.Validate();
        if (request.Mode != CompressionMode.Full) (request.Settings ?? throw new ArgumentException("VQToken modes need compression settings")).EnsureValid();
        var work = new EncodeWork(request, progress, cancellationToken);
        Submit(new AddEncode(work));
        work.Done.CancelPromptly(cancellationToken);
        return work.Done.Task;
    }

    /// <summary>Generates an answer; tokens are also passed to <see cref="AskRequest.OnToken"/> as they come.</summary>
    public Task<AskResult> AskAsync(AskRequest request, CancellationToken cancellationToken = default)
    {
        request.Sampling.Validate();
        if (request.PromptIds.Count(id => id == LlavaOneVision.ImageTokenIndex) != 1)
            throw new ArgumentException("the prompt must hold exactly one image position");
        var work = new AskWork(request, cancellationToken);
        Submit(new AddAsk(work));
        work.Done.CancelPromptly(cancellationToken);
        return work.Done.Task;
    }

    /// <summary>Scores one video for a yes/no prompt: a prefill only (the prefix cache serves the visual part), scheduled
    /// with asks under the same budgets; see <see cref="Output.VideoSearch"/> for a whole list ranked.</summary>
    public Task<ScoreResult> ScoreAsync(ScoreRequest request, CancellationToken cancellationToken = default)
    {
        if (request.PromptIds.Count(id => id == LlavaOneVision.ImageTokenIndex) != 1)
            throw new ArgumentException("the prompt must hold exactly one image position");
        if (request.YesId == request.NoId) throw new ArgumentException("the yes and no answer ids must differ");
        var work = new ScoreWork(request, cancellationToken);
        Submit(new AddScore(work));
        work.Done.CancelPromptly(cancellationToken);
        return work.Done.Task;
    }

    private void Submit(EngineCommand command)
    {
        if (_core.Stopping) throw new EngineUnavailableException("the engine is shutting down");
        if (_core.Ready.IsFaulted) throw new EngineUnavailableException("the model failed to load", _core.Ready.Exception?.InnerException);
        if (_core.TrySubmit(command)) return;
        Metrics.Rejected.Add(1);
        throw new EngineOverloadedException(QueueDepth, TimeSpan.FromSeconds(1));
    }

    /// <summary>Drops the cached prompt prefixes of a video (e.g. when it is deleted or re-encoded).</summary>
    public void ForgetVideo(string videoKey) => _core.TrySubmit(new ForgetVideo(videoKey));

    /// <summary>Stops the engine: with <paramref name="drain"/>, queued and running requests finish
    /// first (until <paramref name="cancellationToken"/> fires); otherwise they fail with
    /// <see cref="EngineUnavailableException"/> at once. Once aborted, the thread stops at its next
    /// step; a step that hangs is given <see cref="AbortGrace"/> and then left behind (it is a
    /// background thread and frees the model itself if it ever returns), so stopping never hangs.</summary>
    public async Task StopAsync(bool drain = true, CancellationToken cancellationToken = default)
    {
        if (_disposed) return;
        _core.BeginStop();
        if (!drain) _core.Abort.Cancel();
        using var registration = cancellationToken.Register(_core.Abort.Cancel);
        var stopped = Task.Run(() => _core.Thread.Join(), CancellationToken.None);
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var onAbort = _core.Abort.Token.Register(() => aborted.TrySetResult());
        await Task.WhenAny(stopped, aborted.Task).ConfigureAwait(false);
        if (stopped.IsCompleted) return;
        if (await Task.WhenAny(stopped, Task.Delay(AbortGrace, CancellationToken.None)).ConfigureAwait(false) != stopped)
            _log.LogWarning("The engine thread did not stop within {Grace} s of the abort (a step hangs); leaving it behind", AbortGrace.TotalSeconds);
    }

    /// <summary>How long an aborted engine thread may take to finish its step before stopping returns.</summary>
    private static readonly TimeSpan AbortGrace = TimeSpan.FromSeconds(5);

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        await StopAsync(drain: false).ConfigureAwait(false);
        _disposed = true;
        Metrics.Dispose();
        if (!_core.Thread.IsAlive) _core.Abort.Dispose();   // a thread left behind still waits on its token
    }
}

/// <summary>What the engine serves, once loaded.</summary>
/// <param name="Bf16Resident">Linear weights and the embedding table held in bf16 under float32 compute.</param>
/// <param name="Float32WeightBytes">What the weights would take in float32 (the yardstick of memory goals).</param>
public sealed record ModelInfo(Checkpoints.LlavaConfig Config, string Device, string DType, long WeightBytes, bool HasVQAttention,
    bool Bf16Resident = false, long Float32WeightBytes = 0);
