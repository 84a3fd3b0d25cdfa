using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using VQToken.Engine.Compression;
using VQToken.Engine.Generation;
using VQToken.Engine.Models;
using static TorchSharp.torch;

namespace VQToken.Engine.Runtime;

/// <summary>The device-pinned engine: ONE dedicated thread loads the model and owns the device and
/// every tensor. Requests arrive through a bounded queue and are awaited as tasks. Each loop turn is
/// one step: admit new asks (prefill, with the per-video prefix cache), run one batched decode step
/// for all active sequences (continuous batching: sequences join and leave between steps), and
/// encode one batch of frames (across videos) when compression work waits — interleaved with
/// decoding so asks never starve behind a long video.</summary>
public sealed class InferenceEngine : IAsyncDisposable
{
    private readonly EngineOptions _options;
    private readonly string _modelPath;
    private readonly ILogger _log;
    private readonly Channel<object> _inbox;
    private readonly Thread _thread;
    private readonly TaskCompletionSource<ModelInfo> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _abort = new();
    private readonly List<EncodeWork> _encodes = [];
    private readonly List<AskWork> _waitingAsks = [];
    private readonly List<AskWork> _active = [];
    private int _queued;
    private int _maxDecodeBatch;
    private long _prefixBytes;
    private long _prefixHits, _prefixMisses;
    private volatile bool _stopping;
    private bool _workedSinceTrim;
    private LlavaOneVision? _model;
    private PrefixCache? _prefixes;

    public EngineMetrics Metrics { get; }

    public InferenceEngine(string modelPath, EngineOptions options, ILogger<InferenceEngine>? logger = null)
    {
        _modelPath = modelPath;
        _options = options;
        _log = (ILogger?)logger ?? NullLogger.Instance;
        _inbox = Channel.CreateBounded<object>(new BoundedChannelOptions(options.MaxQueuedRequests) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        Metrics = new EngineMetrics(() => Volatile.Read(ref _queued), () => _activeCount, () => Interlocked.Read(ref _prefixBytes));
        _thread = new Thread(Run) { IsBackground = true, Name = "vqtoken-engine" };
        _thread.Start();
    }

    /// <summary>Completes when the model is loaded (faults when loading failed).</summary>
    public Task<ModelInfo> Ready => _ready.Task;
    public bool IsReady => _ready.Task.IsCompletedSuccessfully;

    /// <summary>Requests queued but not yet taken by the engine thread.</summary>
    public int QueueDepth => Volatile.Read(ref _queued);
    public int MaxQueuedRequests => _options.MaxQueuedRequests;
    private volatile int _activeCount;

    /// <summary>Largest number of sequences seen in one decode step since start.</summary>
    public int MaxDecodeBatch => Volatile.Read(ref _maxDecodeBatch);
    public long PrefixCacheHits => Interlocked.Read(ref _prefixHits);
    public long PrefixCacheMisses => Interlocked.Read(ref _prefixMisses);

    /// <summary>Encodes and compresses a video's frames. Progress is reported from the engine thread.</summary>
    public Task<VideoEncoding> EncodeAsync(EncodeRequest request, IProgress<EncodeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        request.Frames.Validate();
        if (request.Mode != CompressionMode.Full) (request.Settings ?? throw new ArgumentException("VQToken modes need compression settings")).Validate();
        return Submit(new EncodeWork { Request = request, Progress = progress, Cancellation = cancellationToken }).Task;
    }

    /// <summary>Generates an answer; tokens are also passed to <see cref="AskRequest.OnToken"/> as they come.</summary>
    public Task<AskResult> AskAsync(AskRequest request, CancellationToken cancellationToken = default)
    {
        request.Sampling.Validate();
        if (request.PromptIds.Count(id => id == LlavaOneVision.ImageTokenIndex) != 1)
            throw new ArgumentException("the prompt must hold exactly one image position");
        return Submit(new AskWork { Request = request, Cancellation = cancellationToken }).Task;
    }

    private T Submit<T>(T work) where T : class
    {
        if (_stopping) throw new EngineUnavailableException("the engine is shutting down");
        if (_ready.Task.IsFaulted) throw new EngineUnavailableException("the model failed to load", _ready.Task.Exception?.InnerException);
        Interlocked.Increment(ref _queued);
        if (!_inbox.Writer.TryWrite(work))
        {
            int queued = Interlocked.Decrement(ref _queued);
            Metrics.Rejected.Add(1);
            throw new EngineOverloadedException(queued, TimeSpan.FromSeconds(1));
        }
        return work;
    }

    private void Run()
    {
        try
        {
            torch.set_num_threads(EngineOptions.IntraOpThreads(_options.Threads, torch.get_num_threads(), Environment.ProcessorCount));
            var device = DeviceSelection.ResolveDevice(_options.Device);
            _model = LlavaOneVision.Load(_modelPath, device, DeviceSelection.ResolveDType(_options.DType, device));
            _model.Language.FewRowKernel = _options.DecodeKernel;
            _prefixes = new PrefixCache(_options.PrefixCacheBytes);
            _log.LogInformation("Model loaded from {Path} on {Device} ({DType}), {Bytes} weight bytes", _modelPath, device, _model.DType, _model.WeightBytes);
            _ready.SetResult(new ModelInfo(_model.Config, device.ToString(), _model.DType.ToString(), _model.WeightBytes, _model.VQAttention is not null));
        }
        catch (Exception e)
        {
            _log.LogError(e, "Loading the model from {Path} failed", _modelPath);
            _ready.SetException(e);
            FailQueued(new EngineUnavailableException("the model failed to load: " + e.Message, e));
            return;
        }
        try
        {
            while (true)
            {
                Drain();
                if (_abort.IsCancellationRequested) break;
                if (_encodes.Count == 0 && _waitingAsks.Count == 0 && _active.Count == 0)
                {
                    if (_stopping) break;
                    if (_workedSinceTrim)
                    {
                        HeapTrim.Release();   // idle: give freed KV and activation memory back
                        _workedSinceTrim = false;
                    }
                    WaitForWork();
                    continue;
                }
                Step();
                _workedSinceTrim = true;
            }
        }
        catch (Exception e)
        {
            _log.LogCritical(e, "The engine loop failed");
            FailAll(new EngineUnavailableException("the engine failed: " + e.Message, e));
        }
        finally
        {
            FailAll(new EngineUnavailableException("the engine stopped"));
            FailQueued(new EngineUnavailableException("the engine stopped"));
            _prefixes?.Dispose();
            _model?.Dispose();
        }
    }

    private void WaitForWork()
    {
        try
        {
            _inbox.Reader.WaitToReadAsync(_abort.Token).AsTask().Wait();
        }
        catch (AggregateException) { }
    }

    private void Drain()
    {
        while (_inbox.Reader.TryRead(out var item))
        {
            switch (item)
            {
                case EncodeWork e: Interlocked.Decrement(ref _queued); _encodes.Add(e); break;
                case AskWork a: Interlocked.Decrement(ref _queued); a.QueueMs = a.Clock.Elapsed.TotalMilliseconds; _waitingAsks.Add(a); break;
                case ForgetWork f: _prefixes!.Forget(f.VideoKey); Interlocked.Exchange(ref _prefixBytes, _prefixes.Bytes); break;
            }
        }
    }

    private void Step()
    {
        RemoveCancelled();
        AdmitAsks();
        if (_active.Count > 0) DecodeStep();
        // Vision work runs when no sequence is decoding, or between decode steps otherwise; one frame
        // batch at a time keeps the wait of running asks bounded by one batch.
        if (_encodes.Count > 0) VisionStep();
        _activeCount = _active.Count;
    }

    private void RemoveCancelled()
    {
        RemoveCancelled<EncodeWork, VideoEncoding>(_encodes);
        RemoveCancelled<AskWork, AskResult>(_waitingAsks);
        RemoveCancelled<AskWork, AskResult>(_active);
    }

    /// <summary>Cancelled requests leave at once, freeing their slot and memory.</summary>
    private static void RemoveCancelled<T, TResult>(List<T> list) where T : EngineWork<TResult>
    {
        for (int i = list.Count - 1; i >= 0; i--)
        {
            if (!list[i].IsCancelled) continue;
            list[i].Release();
            list[i].Cancel();
            list.RemoveAt(i);
        }
    }

    private void AdmitAsks()
    {
        // Take the asks that fit, prefill each one's shared prefix (or clone it from the prefix cache),
        // then prefill all their questions as ONE ragged batch and sample their first tokens.
        var admitted = new List<(AskWork Work, long[] Question, Stopwatch Clock, System.Diagnostics.Activity? Activity)>();
        while (_waitingAsks.Count > 0 && _active.Count + admitted.Count < _options.MaxBatchSequences && admitted.Count < _options.MaxPrefillsPerStep)
        {
            var work = _waitingAsks[0];
            _waitingAsks.RemoveAt(0);
            var activity = EngineMetrics.Activities.StartActivity("engine.prefill", ActivityKind.Internal, work.Parent);
            var clock = Stopwatch.StartNew();
            try
            {
                admitted.Add((work, PrefillPrefix(work), clock, activity));
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or ExternalException)
            {
                activity?.Dispose();
                work.Release();
                work.Fail(e);
            }
        }
        if (admitted.Count == 0) return;
        try
        {
            using var scope = NewDisposeScope();
            var logits = _model!.Language.PrefillBatch(admitted.Select(a => a.Question).ToList(), admitted.Select(a => a.Work.Cache!).ToList());  // [B, V]
            for (int i = 0; i < admitted.Count; i++)
            {
                var (work, _, clock, _) = admitted[i];
                work.Sampler = new TokenSampler(work.Request.Sampling);
                work.Next = work.Sampler.Next(logits[i]);
                work.PrefillMs = clock.Elapsed.TotalMilliseconds;
                work.FirstTokenMs = work.Clock.Elapsed.TotalMilliseconds;
                Metrics.PrefillDuration.Record(work.PrefillMs);
                Metrics.TimeToFirstToken.Record(work.FirstTokenMs);
                work.DecodeClock.Start();
                if (!Emit(work)) Finish(work, work.Tokens.Count >= work.Request.Sampling.MaxNewTokens ? FinishReason.Length : FinishReason.Stop);
                else _active.Add(work);
            }
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or ExternalException)
        {
            foreach (var (work, _, _, _) in admitted.Where(a => !_active.Contains(a.Work)))
            {
                work.Release();
                work.Fail(e);
            }
        }
        finally
        {
            foreach (var a in admitted) a.Activity?.Dispose();
        }
    }

    /// <summary>Puts the shared prefix (system prompt + visual tokens) into a new cache for the ask —
    /// cloned from the prefix cache when possible — and returns the question's ids that follow it.
    /// Prefill is always two chunks (prefix, then question), so cached and uncached runs compute the same.</summary>
    private long[] PrefillPrefix(AskWork work)
    {
        var model = _model!;
        var request = work.Request;
        using var scope = NewDisposeScope();
        var ids = request.PromptIds;
        int image = ids.ToList().IndexOf((int)LlavaOneVision.ImageTokenIndex);
        var prefixIds = ids.Take(image + 1).Select(i => (long)i).ToArray();
        var restIds = ids.Skip(image + 1).Select(i => (long)i).ToArray();
        if (restIds.Length == 0) throw new ArgumentException("the prompt must continue after the image position");

        string key = $"{request.VideoKey}|{request.Encoding.Mode}|{request.Encoding.VisualTokens}|{string.Join(',', prefixIds)}";
        var cached = request.UsePrefixCache ? _prefixes!.TryClone(key) : null;
        work.PrefixHit = cached is not null;
        (work.PrefixHit ? ref _prefixHits : ref _prefixMisses)++;
        Metrics.PrefixCacheLookups.Add(1, new KeyValuePair<string, object?>("result", work.PrefixHit ? "hit" : "miss"));
        work.Cache = cached ?? model.Language.NewCache(prefixIds.Length + request.Encoding.VisualTokens + restIds.Length + request.Sampling.MaxNewTokens);
        if (cached is null)
        {
            var visual = VisualTokens(request.Encoding);
            model.Language.Forward(model.PromptEmbeddings(prefixIds, visual), work.Cache, lastOnly: true);
            if (request.UsePrefixCache) _prefixes!.Put(key, work.Cache);
            Interlocked.Exchange(ref _prefixBytes, _prefixes!.Bytes);
            if (request.Encoding.VisualTokens >= Qwen2ForCausalLM.LongPrompt) HeapTrim.Release();
        }
        work.PromptTokens = ids.Count - 1 + request.Encoding.VisualTokens;
        return restIds;
    }

    /// <summary>The LLM's visual tokens [N, D] for an encoding (VQ-Attention runs here, on the device).</summary>
    private Tensor VisualTokens(VideoEncoding encoding)
    {
        var model = _model!;
        if (encoding.Mode == CompressionMode.Full)
            return tensor(encoding.FullTokens ?? throw new ArgumentException("full-mode encoding without tokens"), [encoding.VisualTokens, encoding.Dim]);
        var compressed = encoding.Compressed ?? throw new ArgumentException("VQToken encoding without codebook");
        if (compressed.Dim != model.Config.Text.HiddenSize)
            throw new ArgumentException($"the cached codebook has width {compressed.Dim}, the model {model.Config.Text.HiddenSize}: re-encode the video");
        return model.VQTokens(compressed.IndexMapTensor(), compressed.CodebookTensor());
    }

    /// <summary>Handles work.Next: emits it, or reports false when it ends the sequence.</summary>
    private bool Emit(AskWork work)
    {
        if (work.Request.Sampling.StopIds.Contains(work.Next)) return false;
        work.Tokens.Add(work.Next);
        Metrics.TokensGenerated.Add(1);
        work.Request.OnToken?.Invoke(work.Next);
        return work.Tokens.Count < work.Request.Sampling.MaxNewTokens;
    }

    private void DecodeStep()
    {
        var clock = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        var batch = _active.ToList();
        var logits = _model!.Language.DecodeBatch(batch.Select(w => w.Next).ToList(), batch.Select(w => w.Cache!).ToList());  // [B, V]
        Metrics.DecodeBatchSize.Record(batch.Count);
        if (batch.Count > _maxDecodeBatch) Volatile.Write(ref _maxDecodeBatch, batch.Count);
        for (int i = 0; i < batch.Count; i++)
        {
            var work = batch[i];
            work.Next = work.Sampler!.Next(logits[i]);
            if (!Emit(work))
            {
                _active.Remove(work);
                Finish(work, work.Tokens.Count >= work.Request.Sampling.MaxNewTokens ? FinishReason.Length : FinishReason.Stop);
            }
        }
        Metrics.DecodeStepDuration.Record(clock.Elapsed.TotalMilliseconds);
    }

    private void Finish(AskWork work, FinishReason reason)
    {
        // A sequence that hit its limit on a token that is also a stop token ends as Stop.
        if (reason == FinishReason.Length && work.Request.Sampling.StopIds.Contains(work.Next) && work.Tokens.Count < work.Request.Sampling.MaxNewTokens)
            reason = FinishReason.Stop;
        work.DecodeClock.Stop();
        var result = new AskResult(work.Tokens.ToArray(), reason, work.PromptTokens, work.Request.Encoding.VisualTokens, work.PrefixHit,
            work.QueueMs, work.PrefillMs, work.DecodeClock.Elapsed.TotalMilliseconds, work.Clock.Elapsed.TotalMilliseconds, work.FirstTokenMs);
        work.Release();
        work.Complete(result);
    }

    private void VisionStep()
    {
        var model = _model!;
        var clock = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        // Take frames from the waiting videos in order until the frame budget is used.
        var parts = new List<(EncodeWork Work, int From, int Count)>();
        int budget = _options.MaxBatchFrames;
        foreach (var work in _encodes)
        {
            if (budget == 0) break;
            int count = Math.Min(budget, work.Request.Frames.Count - work.FramesEncoded);
            if (count == 0) continue;
            parts.Add((work, work.FramesEncoded, count));
            budget -= count;
        }
        var pixels = cat(parts.Select(p => p.Work.Request.Frames.ToPixels(p.From, p.Count, model.Device)).ToList(), 0);   // [B, 3, S, S]
        using (EngineMetrics.Activities.StartActivity("engine.vision", ActivityKind.Internal, parts[0].Work.Parent))
        {
            var projected = model.Project(model.EncodeVision(pixels));                                     // [B, P, D]
            long offset = 0;
            foreach (var (work, _, count) in parts)
            {
                work.Projected.Add(projected.narrow(0, offset, count).clone().DetachFromDisposeScope());
                offset += count;
                work.FramesEncoded += count;
            }
        }
        long frames = pixels.shape[0];
        scope.DisposeEverything();   // the batch's activations go before the trim, so it can give them back
        HeapTrim.Release();
        double ms = clock.Elapsed.TotalMilliseconds;
        Metrics.VisionBatchDuration.Record(ms);
        Metrics.VisionBatchFrames.Record((int)frames);
        Metrics.FramesEncoded.Add(frames);
        foreach (var (work, _, count) in parts)
        {
            work.VisionMs += ms * count / frames;
            work.Progress?.Report(new EncodeProgress("encoding", work.FramesEncoded, work.Request.Frames.Count));
            if (work.FramesEncoded == work.Request.Frames.Count) CompleteEncode(work);
        }
    }

    private void CompleteEncode(EncodeWork work)
    {
        _encodes.Remove(work);
        var model = _model!;
        try
        {
            using var activity = EngineMetrics.Activities.StartActivity("engine.compress", ActivityKind.Internal, work.Parent);
            var clock = Stopwatch.StartNew();
            using var scope = NewDisposeScope();
            var projected = cat(work.Projected, 0);                                              // [T, P, D]
            long t = projected.shape[0], p = projected.shape[1], d = projected.shape[2];
            VideoEncoding encoding;
            if (work.Request.Mode == CompressionMode.Full)
            {
                var tokens = model.FullTokens(projected).to_type(ScalarType.Float32).cpu();       // [T·g'² + 1, D]
                encoding = new VideoEncoding
                {
                    Mode = CompressionMode.Full, FullTokens = tokens.data<float>().ToArray(), VisualTokens = (int)tokens.shape[0],
                };
            }
            else
            {
                var compressed = VideoCompressor.Compress(projected.to_type(ScalarType.Float32), work.Request.Settings!);
                bool codebookOnly = model.VQAttention is null;
                encoding = new VideoEncoding
                {
                    Mode = work.Request.Mode, Compressed = compressed, CodebookOnly = codebookOnly,
                    VisualTokens = (codebookOnly ? compressed.K : (int)Math.Max(t, compressed.K)) + 1,
                };
            }
            double ms = clock.Elapsed.TotalMilliseconds;
            Metrics.CompressionDuration.Record(ms);
            work.Progress?.Report(new EncodeProgress("compressed", work.FramesEncoded, work.Request.Frames.Count));
            work.Complete(encoding with { Dim = (int)d, Frames = (int)t, OriginalTokens = (int)(t * p), VisionMs = work.VisionMs, CompressionMs = ms });
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or ExternalException)
        {
            work.Fail(e);
        }
        finally
        {
            work.Release();
        }
    }

    /// <summary>Drops the cached prompt prefixes of a video (e.g. when it is deleted or re-encoded).</summary>
    public void ForgetVideo(string videoKey) => _inbox.Writer.TryWrite(new ForgetWork(videoKey));

    private sealed record ForgetWork(string VideoKey);

    private void FailAll(Exception error)
    {
        foreach (var w in _encodes) { w.Release(); w.Fail(error); }
        foreach (var w in _waitingAsks.Concat(_active)) { w.Release(); w.Fail(error); }
        _encodes.Clear();
        _waitingAsks.Clear();
        _active.Clear();
    }

    private void FailQueued(Exception error)
    {
        _inbox.Writer.TryComplete();
        while (_inbox.Reader.TryRead(out var item))
        {
            if (item is EncodeWork e) { Interlocked.Decrement(ref _queued); e.Fail(error); }
            else if (item is AskWork a) { Interlocked.Decrement(ref _queued); a.Fail(error); }
        }
    }

    /// <summary>Stops the engine: with <paramref name="drain"/>, queued and running requests finish
    /// first; otherwise they fail with <see cref="EngineUnavailableException"/> at once.</summary>
    public async Task StopAsync(bool drain = true, CancellationToken cancellationToken = default)
    {
        if (_disposed) return;
        _stopping = true;
        _inbox.Writer.TryComplete();
        if (!drain) _abort.Cancel();
        using var registration = cancellationToken.Register(_abort.Cancel);
        await Task.Run(() => _thread.Join(), CancellationToken.None).ConfigureAwait(false);
    }

    private volatile bool _disposed;

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        await StopAsync(drain: false).ConfigureAwait(false);
        _disposed = true;
        Metrics.Dispose();
        _abort.Dispose();
    }
}

/// <summary>What the engine serves, once loaded.</summary>
public sealed record ModelInfo(Checkpoints.LlavaConfig Config, string Device, string DType, long WeightBytes, bool HasVQAttention);
