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
/// one step of bounded work: admit new asks (with the per-video prefix cache), prefill at most
/// <see cref="EngineOptions.PrefillChunkTokens"/> prompt positions, run one batched decode step for all
/// active sequences (continuous batching: sequences join and leave between steps), encode one batch
/// of frames (across videos) and run one slice of a video's K-means. No request holds the thread for
/// longer than its slice, so asks never starve behind a long video or a long prompt, and cancellation
/// and shutdown take effect between slices.</summary>
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
    private readonly List<EncodeWork> _compressing = [];
    private readonly List<AskWork> _waitingAsks = [];
    private readonly List<AskWork> _prefilling = [];
    private readonly List<AskWork> _active = [];
    /// <summary>When the engine thread last finished a step or woke up with work (Environment.TickCount64);
    /// <see cref="Idle"/> while it waits for work.</summary>
    private long _progressTicks = Idle;
    private const long Idle = long.MaxValue;
    private volatile int _held;
    private long _steps;
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

    /// <summary>Engine steps completed since start.</summary>
    public long Steps => Interlocked.Read(ref _steps);

    /// <summary>How long work has been waiting without the engine completing a step: zero while it is
    /// idle or stepping normally; growing while one step hangs (a stuck device call, a blocked callback).</summary>
    public TimeSpan TimeWithoutProgress
    {
        get
        {
            long since = Interlocked.Read(ref _progressTicks);
            if (since == Idle || (QueueDepth == 0 && _held == 0)) return TimeSpan.Zero;
            return TimeSpan.FromMilliseconds(Math.Max(0, Environment.TickCount64 - since));
        }
    }

    /// <summary>Encodes and compresses a video's frames. Progress is reported from the engine thread.</summary>
    public Task<VideoEncoding> EncodeAsync(EncodeRequest request, IProgress<EncodeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        request.Frames.Validate();
        if (request.Mode != CompressionMode.Full) (request.Settings ?? throw new ArgumentException("VQToken modes need compression settings")).EnsureValid();
        return Submit(new EncodeWork { Request = request, Progress = progress, Cancellation = cancellationToken });
    }

    /// <summary>Generates an answer; tokens are also passed to <see cref="AskRequest.OnToken"/> as they come.</summary>
    public Task<AskResult> AskAsync(AskRequest request, CancellationToken cancellationToken = default)
    {
        request.Sampling.Validate();
        if (request.PromptIds.Count(id => id == LlavaOneVision.ImageTokenIndex) != 1)
            throw new ArgumentException("the prompt must hold exactly one image position");
        return Submit(new AskWork { Request = request, Cancellation = cancellationToken });
    }

    private Task<TResult> Submit<TResult>(EngineWork<TResult> work)
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
        work.CancelPromptly();
        return work.Task;
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
            if (_model.VQAttention is null)
                _log.LogInformation("VQToken videos run the codebook token path (the published path): the checkpoint has no VQ-Attention weights (model.cross_attention.*), so the attention path is refused");
            else
                _log.LogInformation("VQToken videos run the codebook token path by default (the published path: the official code never uses VQ-Attention); the checkpoint has VQ-Attention weights, so tokens=attention is available per video");
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
                _held = HeldCount;
                if (_abort.IsCancellationRequested) break;
                if (HeldCount == 0)
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
                _held = HeldCount;
                Interlocked.Exchange(ref _progressTicks, Environment.TickCount64);
                Interlocked.Increment(ref _steps);
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

    /// <summary>Requests the engine thread has taken and not finished.</summary>
    private int HeldCount => _encodes.Count + _compressing.Count + _waitingAsks.Count + _prefilling.Count + _active.Count;

    private void WaitForWork()
    {
        _held = 0;
        Interlocked.Exchange(ref _progressTicks, Idle);
        try
        {
            _inbox.Reader.WaitToReadAsync(_abort.Token).AsTask().Wait();
        }
        catch (AggregateException) { }
        Interlocked.Exchange(ref _progressTicks, Environment.TickCount64);
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
        if (_prefilling.Count > 0) PrefillStep();
        if (_active.Count > 0) DecodeStep();
        // Vision and compression work run between decode steps; one frame batch and one K-means slice
        // per step keep the wait of running asks bounded.
        if (_encodes.Count > 0) VisionStep();
        if (_compressing.Count > 0) CompressionStep();
        _activeCount = _active.Count;
    }

    private void RemoveCancelled()
    {
        RemoveCancelled<EncodeWork, VideoEncoding>(_encodes);
        RemoveCancelled<EncodeWork, VideoEncoding>(_compressing);
        RemoveCancelled<AskWork, AskResult>(_waitingAsks);
        RemoveCancelled<AskWork, AskResult>(_prefilling);
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

    /// <summary>Moves waiting asks into prefill (as many as fit the batch, at most MaxPrefillsPerStep a
    /// step): splits each prompt at its image position and looks its prefix up in the prefix cache.</summary>
    private void AdmitAsks()
    {
        int admitted = 0;
        while (_waitingAsks.Count > 0 && _active.Count + _prefilling.Count < _options.MaxBatchSequences && admitted < _options.MaxPrefillsPerStep)
        {
            var work = _waitingAsks[0];
            _waitingAsks.RemoveAt(0);
            admitted++;
            work.PrefillActivity = EngineMetrics.Activities.StartActivity("engine.prefill", ActivityKind.Internal, work.Parent);
            work.PrefillClock.Start();
            var request = work.Request;
            var ids = request.PromptIds;
            int image = ids.ToList().IndexOf((int)LlavaOneVision.ImageTokenIndex);
            work.PrefixIds = ids.Take(image + 1).Select(i => (long)i).ToArray();
            work.QuestionIds = ids.Skip(image + 1).Select(i => (long)i).ToArray();
            if (work.QuestionIds.Length == 0)
            {
                work.Release();
                work.Fail(new ArgumentException("the prompt must continue after the image position"));
                continue;
            }
            work.PrefixKey = $"{request.VideoKey}|{request.Encoding.Mode}|{request.Encoding.VisualTokens}|{string.Join(',', work.PrefixIds)}";
            work.PromptTokens = ids.Count - 1 + request.Encoding.VisualTokens;
            _prefilling.Add(work);
        }
    }

    /// <summary>Prefills at most <see cref="EngineOptions.PrefillChunkTokens"/> prompt positions (at least
    /// one chunk) across the asks in prefill, taken in turn: each ask's prefix (system prompt + visual
    /// tokens, cloned from the prefix cache when possible), then its question, in chunks whose bounds
    /// depend on the ask alone, so an answer does not depend on what else was in the step. Question
    /// chunks of several asks run as one ragged batch; an ask whose question is complete samples its
    /// first token and starts decoding. Asks served in this step go to the back of the line.</summary>
    private void PrefillStep()
    {
        int chunk = _options.PrefillChunkTokens, budget = chunk, taken = 0;
        var questions = new List<(AskWork Work, long[] Ids)>();
        var served = new List<AskWork>();
        foreach (var work in _prefilling.ToList())
        {
            if (budget <= 0) break;
            if (work.PrefixPending)
            {
                try
                {
                    if (!work.PrefixResolved && !ResolvePrefix(work)) continue;   // another ask is computing the same prefix
                    if (work.PrefixDone < work.PrefixLength)
                    {
                        int length = Math.Min(chunk, work.PrefixLength - work.PrefixDone);
                        if (taken > 0 && length > budget) continue;
                        PrefillPrefixChunk(work, length);
                        budget -= length;
                        taken += length;
                        served.Add(work);
                        if (work.PrefixPending) continue;
                    }
                }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException or ExternalException)
                {
                    _prefilling.Remove(work);
                    served.Remove(work);
                    work.Release();
                    work.Fail(e);
                    continue;
                }
            }
            int piece = Math.Min(chunk, work.QuestionIds.Length - work.QuestionDone);
            if (taken > 0 && piece > budget) continue;
            questions.Add((work, work.QuestionIds.AsSpan(work.QuestionDone, piece).ToArray()));
            budget -= piece;
            taken += piece;
            if (!served.Contains(work)) served.Add(work);
        }
        foreach (var work in served)
        {
            _prefilling.Remove(work);
            _prefilling.Add(work);
        }
        if (questions.Count > 0) PrefillQuestions(questions);
    }

    /// <summary>Finds the ask's prefix in the prefix cache (then it is done) or prepares its embeddings.
    /// False while another ask in prefill computes the same prefix: this one then clones it.</summary>
    private bool ResolvePrefix(AskWork work)
    {
        var request = work.Request;
        if (request.UsePrefixCache && _prefilling.Any(o => o != work && o.PrefixResolved && o.PrefixPending && o.PrefixKey == work.PrefixKey && o.Request.UsePrefixCache))
            return false;
        var cached = request.UsePrefixCache ? _prefixes!.TryClone(work.PrefixKey) : null;
        work.PrefixHit = cached is not null;
        (work.PrefixHit ? ref _prefixHits : ref _prefixMisses)++;
        Metrics.PrefixCacheLookups.Add(1, new KeyValuePair<string, object?>("result", work.PrefixHit ? "hit" : "miss"));
        var model = _model!;
        work.Cache = cached ?? model.Language.NewCache(work.PrefixIds.Length + request.Encoding.VisualTokens + work.QuestionIds.Length + request.Sampling.MaxNewTokens);
        work.PrefixResolved = true;
        if (cached is not null)
        {
            work.PrefixLength = work.PrefixDone = 0;
            return true;
        }
        using var scope = NewDisposeScope();
        work.PrefixEmbeds = model.PromptEmbeddings(work.PrefixIds, VisualTokens(request.Encoding)).DetachFromDisposeScope();   // [1, L, D]
        work.PrefixLength = (int)work.PrefixEmbeds.shape[1];
        return true;
    }

    /// <summary>Runs the next <paramref name="length"/> prefix positions into the ask's cache; once the
    /// prefix is complete it goes into the prefix cache.</summary>
    private void PrefillPrefixChunk(AskWork work, int length)
    {
        var model = _model!;
        using (NewDisposeScope())
            model.Language.Forward(work.PrefixEmbeds!.narrow(1, work.PrefixDone, length), work.Cache!, lastOnly: true);
        work.PrefixDone += length;
        if (work.PrefixDone < work.PrefixLength) return;
        work.PrefixEmbeds!.Dispose();
        work.PrefixEmbeds = null;
        if (work.Request.UsePrefixCache) _prefixes!.Put(work.PrefixKey, work.Cache!);
        Interlocked.Exchange(ref _prefixBytes, _prefixes!.Bytes);
        if (work.Request.Encoding.VisualTokens >= Qwen2ForCausalLM.LongPrompt) HeapTrim.Release();
    }

    /// <summary>One ragged batch of question chunks; asks whose question is now complete start decoding.</summary>
    private void PrefillQuestions(List<(AskWork Work, long[] Ids)> questions)
    {
        try
        {
            using var scope = NewDisposeScope();
            var logits = _model!.Language.PrefillBatch(questions.Select(q => q.Ids).ToList(), questions.Select(q => q.Work.Cache!).ToList());  // [B, V]
            for (int i = 0; i < questions.Count; i++)
            {
                var (work, ids) = questions[i];
                work.QuestionDone += ids.Length;
                if (work.QuestionDone < work.QuestionIds.Length) continue;
                _prefilling.Remove(work);
                work.Sampler = new TokenSampler(work.Request.Sampling);
                work.Next = work.Sampler.Next(logits[i]);
                work.PrefillMs = work.PrefillClock.Elapsed.TotalMilliseconds;
                work.FirstTokenMs = work.Clock.Elapsed.TotalMilliseconds;
                work.PrefillActivity?.Dispose();
                work.PrefillActivity = null;
                Metrics.PrefillDuration.Record(work.PrefillMs);
                Metrics.TimeToFirstToken.Record(work.FirstTokenMs);
                work.DecodeClock.Start();
                if (!Emit(work)) Finish(work, work.Tokens.Count >= work.Request.Sampling.MaxNewTokens ? FinishReason.Length : FinishReason.Stop);
                else _active.Add(work);
            }
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or ExternalException)
        {
            foreach (var (work, _) in questions.Where(q => !_active.Contains(q.Work) && _prefilling.Contains(q.Work)))
            {
                _prefilling.Remove(work);
                work.Release();
                work.Fail(e);
            }
        }
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
        return model.VQTokens(compressed.IndexMapTensor(), compressed.CodebookTensor(), compressed.TokenPath);
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
            if (work.FramesEncoded == work.Request.Frames.Count) StartCompression(work);
        }
    }

    /// <summary>All frames are encoded: pools them (full mode, done at once) or starts the K-means,
    /// which then runs one slice per step.</summary>
    private void StartCompression(EncodeWork work)
    {
        _encodes.Remove(work);
        var model = _model!;
        try
        {
            var clock = Stopwatch.StartNew();
            using var scope = NewDisposeScope();
            var projected = cat(work.Projected, 0);                                              // [T, P, D]
            (work.Frames, work.TokensPerFrame, work.Dim) = (projected.shape[0], projected.shape[1], projected.shape[2]);
            if (work.Request.Mode == CompressionMode.Full)
            {
                using var activity = EngineMetrics.Activities.StartActivity("engine.compress", ActivityKind.Internal, work.Parent);
                var tokens = model.FullTokens(projected).to_type(ScalarType.Float32).cpu();       // [T·g'² + 1, D]
                work.CompressionMs = clock.Elapsed.TotalMilliseconds;
                CompleteEncode(work, new VideoEncoding
                {
                    Mode = CompressionMode.Full, FullTokens = tokens.data<float>().ToArray(), VisualTokens = (int)tokens.shape[0],
                });
                return;
            }
            if (work.Request.Settings!.Tokens == TokenPath.Attention && model.VQAttention is null)
                throw new ArgumentException("the attention token path needs VQ-Attention weights, which this checkpoint does not have");
            work.CompressActivity = EngineMetrics.Activities.StartActivity("engine.compress", ActivityKind.Internal, work.Parent);
            work.Job = VideoCompressor.Start(projected.to_type(ScalarType.Float32), work.Request.Settings!);
            work.ReleaseFrames();
            work.CompressionMs = clock.Elapsed.TotalMilliseconds;
            _compressing.Add(work);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or ExternalException)
        {
            work.Release();
            work.Fail(e);
        }
    }

    /// <summary>One slice of one video's K-means (videos take turns).</summary>
    private void CompressionStep()
    {
        var work = _compressing[0];
        _compressing.RemoveAt(0);
        try
        {
            var clock = Stopwatch.StartNew();
            bool done = work.Job!.Advance();
            work.CompressionMs += clock.Elapsed.TotalMilliseconds;
            if (!done)
            {
                _compressing.Add(work);
                return;
            }
            var compressed = work.Job.Result!;
            CompleteEncode(work, new VideoEncoding
            {
                Mode = work.Request.Mode, Compressed = compressed,
                VisualTokens = VideoEncoding.VQTokenCount(compressed.TokenPath, (int)work.Frames, compressed.K),
            });
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or ExternalException)
        {
            work.Release();
            work.Fail(e);
        }
    }

    private void CompleteEncode(EncodeWork work, VideoEncoding encoding)
    {
        double ms = work.CompressionMs;
        Metrics.CompressionDuration.Record(ms);
        work.Progress?.Report(new EncodeProgress("compressed", work.FramesEncoded, work.Request.Frames.Count));
        var (t, p, d) = (work.Frames, work.TokensPerFrame, work.Dim);
        work.Release();
        work.Complete(encoding with { Dim = (int)d, Frames = (int)t, OriginalTokens = (int)(t * p), VisionMs = work.VisionMs, CompressionMs = ms });
    }

    /// <summary>Drops the cached prompt prefixes of a video (e.g. when it is deleted or re-encoded).</summary>
    public void ForgetVideo(string videoKey) => _inbox.Writer.TryWrite(new ForgetWork(videoKey));

    private sealed record ForgetWork(string VideoKey);

    private void FailAll(Exception error)
    {
        foreach (var w in _encodes.Concat(_compressing)) { w.Release(); w.Fail(error); }
        foreach (var w in _waitingAsks.Concat(_prefilling).Concat(_active)) { w.Release(); w.Fail(error); }
        _encodes.Clear();
        _compressing.Clear();
        _waitingAsks.Clear();
        _prefilling.Clear();
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
    /// first (until <paramref name="cancellationToken"/> fires); otherwise they fail with
    /// <see cref="EngineUnavailableException"/> at once. Once aborted, the thread stops at its next
    /// slice; a step that hangs is given <see cref="AbortGrace"/> and then left behind (it is a
    /// background thread and frees the model itself if it ever returns), so stopping never hangs.</summary>
    public async Task StopAsync(bool drain = true, CancellationToken cancellationToken = default)
    {
        if (_disposed) return;
        _stopping = true;
        _inbox.Writer.TryComplete();
        if (!drain) _abort.Cancel();
        using var registration = cancellationToken.Register(_abort.Cancel);
        var stopped = Task.Run(() => _thread.Join(), CancellationToken.None);
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var onAbort = _abort.Token.Register(() => aborted.TrySetResult());
        await Task.WhenAny(stopped, aborted.Task).ConfigureAwait(false);
        if (stopped.IsCompleted) return;
        if (await Task.WhenAny(stopped, Task.Delay(AbortGrace, CancellationToken.None)).ConfigureAwait(false) != stopped)
            _log.LogWarning("The engine thread did not stop within {Grace} s of the abort (a step hangs); leaving it behind", AbortGrace.TotalSeconds);
    }

    /// <summary>How long an aborted engine thread may take to finish its step before stopping returns.</summary>
    private static readonly TimeSpan AbortGrace = TimeSpan.FromSeconds(5);

    private volatile bool _disposed;

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        await StopAsync(drain: false).ConfigureAwait(false);
        _disposed = true;
        Metrics.Dispose();
        if (!_thread.IsAlive) _abort.Dispose();   // a thread left behind still waits on its token
    }
}

/// <summary>What the engine serves, once loaded.</summary>
public sealed record ModelInfo(Checkpoints.LlavaConfig Config, string Device, string DType, long WeightBytes, bool HasVQAttention);
