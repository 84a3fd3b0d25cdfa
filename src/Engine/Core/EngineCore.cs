using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using TorchSharp;
using VQToken.Engine.Execution;
using VQToken.Engine.Models;
using VQToken.Engine.Runtime;
using VQToken.Engine.Scheduling;

namespace VQToken.Engine.Core;

/// <summary>The engine core (vLLM's EngineCore): ONE dedicated thread loads the model and owns the device
/// and every tensor. It drains its typed inbox, runs one step (the scheduler decides, the model runner
/// executes), and blocks on the inbox when there is no work. Shutdown drains or aborts between steps.</summary>
internal sealed class EngineCore
{
    private readonly EngineOptions _options;
    private readonly string _modelPath;
    private readonly ILogger _log;
    private readonly Channel<EngineCommand> _inbox;
    private readonly Thread _thread;
    private readonly Scheduler _scheduler;
    private readonly TaskCompletionSource<ModelInfo> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ModelRunner? _runner;
    /// <summary>When the thread last finished a step or woke up with work (Environment.TickCount64); Idle while it waits.</summary>
    private long _progressTicks = Idle;
    private const long Idle = long.MaxValue;
    private volatile int _held, _running;
    private int _queued;
    private long _steps;
    private bool _workedSinceTrim;

    public EngineCore(string modelPath, EngineOptions options, ILogger log, EngineMetrics metrics)
    {
        (_modelPath, _options, _log) = (modelPath, options, log);
        _inbox = Channel.CreateBounded<EngineCommand>(new BoundedChannelOptions(options.MaxQueuedRequests) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        _scheduler = new Scheduler(StepBudget.From(options), metrics);
        Metrics = metrics;
        _thread = new Thread(Run) { IsBackground = true, Name = "vqtoken-engine" };
        _thread.Start();
    }

    public EngineMetrics Metrics { get; }
    public Task<ModelInfo> Ready => _ready.Task;
    public CancellationTokenSource Abort { get; } = new();
    public bool Stopping { get; private set; }
    public Thread Thread => _thread;
    public ModelRunner? Runner => _runner;
    public int Queued => Volatile.Read(ref _queued);
    public int Held => _held;
    public int RunningSequences => _running;
    public long Steps => Interlocked.Read(ref _steps);
    public long ProgressTicks => Interlocked.Read(ref _progressTicks);
    public static bool IsIdle(long ticks) => ticks == Idle;

    /// <summary>Queues a request; false when the inbox is full (backpressure).</summary>
    public bool TrySubmit(EngineCommand command)
    {
        if (command.IsRequest) Interlocked.Increment(ref _queued);
        if (_inbox.Writer.TryWrite(command)) return true;
        if (command.IsRequest) Interlocked.Decrement(ref _queued);
        return false;
    }

    /// <summary>No new requests; queued and running ones finish unless <see cref="Abort"/> fires.</summary>
    public void BeginStop()
    {
        Stopping = true;
        _inbox.Writer.TryComplete();
    }

    internal void Take(AskWork work) { Interlocked.Decrement(ref _queued); _scheduler.Add(work); }
    internal void Take(ScoreWork work) { Interlocked.Decrement(ref _queued); _scheduler.Add(work); }
    internal void Take(EncodeWork work)
    {
        Interlocked.Decrement(ref _queued);
        work.WakeWith(Wake);
        _scheduler.Add(work);
    }

    /// <summary>Completed when frames arrive (or a streamed video is cancelled): ends a wait for frames.</summary>
    private TaskCompletionSource _frames = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void Wake() => Interlocked.Exchange(ref _frames, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    internal void Forget(string videoKey)
    {
        _runner!.Forget(videoKey);
        _workedSinceTrim = true;   // the forgotten prefixes' memory goes back at the next idle moment, not after the next work
    }

    private void Run()
    {
        if (!Load()) return;
        try
        {
            while (true)
            {
                while (_inbox.Reader.TryRead(out var command)) command.Apply(this);
                _held = _scheduler.Count;
                if (Abort.IsCancellationRequested) break;
                if (_scheduler.Count == 0)
                {
                    if (Stopping) break;
                    if (_workedSinceTrim)
                    {
                        HeapTrim.Release();   // idle: give freed KV and activation memory back
                        _workedSinceTrim = false;
                    }
                    WaitForWork();
                    continue;
                }
                var frames = Volatile.Read(ref _frames).Task;   // taken before the step: a chunk arriving during it ends the wait below
                _scheduler.Step(_runner!);
                _running = _scheduler.Running;
                _workedSinceTrim = true;
                _held = _scheduler.Count;
                Interlocked.Exchange(ref _progressTicks, Environment.TickCount64);
                Interlocked.Increment(ref _steps);
                if (_scheduler.WaitsForFrames) WaitForFrames(frames);
            }
        }
        catch (Exception e)
        {
            _log.LogCritical(e, "The engine loop failed");
            _scheduler.FailAll(_runner, new EngineUnavailableException("the engine failed: " + e.Message, e));
        }
        finally
        {
            _scheduler.FailAll(_runner, new EngineUnavailableException("the engine stopped"));
            FailQueued(new EngineUnavailableException("the engine stopped"));
            _runner?.Dispose();
            _runner?.Model.Dispose();
        }
    }

    private bool Load()
    {
        try
        {
            torch.set_num_threads(EngineOptions.IntraOpThreads(_options.Threads, torch.get_num_threads(), Environment.ProcessorCount));
            var device = DeviceSelection.ResolveDevice(_options.Device);
            var model = LlavaOneVision.Load(_modelPath, device, DeviceSelection.ResolveDType(_options.DType, device),
                DeviceSelection.ResolveResidency(_options.WeightResidency));
            _runner = new ModelRunner(model, _options, Metrics);
            _log.LogInformation("Model loaded from {Path} on {Device} ({DType}, weights held in {Held}), {Bytes} weight bytes", _modelPath, device, model.DType, model.Bf16Resident ? "bfloat16" : model.DType.ToString(), model.WeightBytes);
            if (model.VQAttention is null)
                _log.LogInformation("VQToken videos run the codebook token path (the published path): the checkpoint has no VQ-Attention weights (model.cross_attention.*), so the attention path is refused");
            else
                _log.LogInformation("VQToken videos run the codebook token path by default (the published path: the official code never uses VQ-Attention); the checkpoint has VQ-Attention weights, so tokens=attention is available per video");
            _ready.SetResult(new ModelInfo(model.Config, device.ToString(), model.DType.ToString(), model.WeightBytes, model.VQAttention is not null,
                model.Bf16Resident, model.Float32WeightBytes));
            return true;
        }
        catch (Exception e)
        {
            _log.LogError(e, "Loading the model from {Path} failed", _modelPath);
            _ready.SetException(e);
            FailQueued(new EngineUnavailableException("the model failed to load: " + e.Message, e));
            return false;
        }
    }

    private void WaitForWork()
    {
        _held = 0;
        Interlocked.Exchange(ref _progressTicks, Idle);
        try
        {
            InboxWait().Wait();
        }
        catch (AggregateException) { }
        Interlocked.Exchange(ref _progressTicks, Environment.TickCount64);
    }

    /// <summary>Sleeps until frames arrive, a request comes in or the engine is aborted: decoding is slower than
    /// the vision tower for a moment, which is not a hang (<see cref="ProgressTicks"/> says idle).</summary>
    private void WaitForFrames(Task frames)
    {
        Interlocked.Exchange(ref _progressTicks, Idle);
        try
        {
            // A completed inbox (stopping with drain) answers at once: then only frames or the abort end the wait.
            Task.WaitAny([frames, _inbox.Reader.Completion.IsCompleted ? Aborted() : InboxWait()]);
        }
        catch (AggregateException) { }
        Interlocked.Exchange(ref _progressTicks, Environment.TickCount64);
    }

    /// <summary>The one pending wait on the inbox (a wait for frames may end first and leave it for the next one).</summary>
    private Task InboxWait()
    {
        if (_inboxWait is null || _inboxWait.IsCompleted) _inboxWait = _inbox.Reader.WaitToReadAsync(Abort.Token).AsTask();
        return _inboxWait;
    }

    private Task<bool>? _inboxWait;

    private Task Aborted() => _aborted ??= Task.Delay(Timeout.Infinite, Abort.Token);
    private Task? _aborted;

    private void FailQueued(Exception error)
    {
        _inbox.Writer.TryComplete();
        while (_inbox.Reader.TryRead(out var command))
        {
            if (command.IsRequest) Interlocked.Decrement(ref _queued);
            command.Fail(error);
        }
    }
}
