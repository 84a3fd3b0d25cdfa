using System.Diagnostics;
using VQToken.Engine.Compression;
using VQToken.Engine.Generation;
using VQToken.Engine.Kernels;
using VQToken.Engine.Models;
using VQToken.Engine.Output;
using VQToken.Engine.Runtime;
using VQToken.Engine.Scheduling;
using static TorchSharp.torch;

namespace VQToken.Engine.Execution;

/// <summary>Runs what the scheduler decided on <see cref="LlavaOneVision"/> (vLLM's model runner): chunked
/// prefill with the prefix cache, batched decode with sampling, vision batches and compression slices. Owns
/// every request's tensors (KV cache, sampler, frame features, K-means) until it is released, and the prefix
/// cache; not the model. One thread at a time (the engine thread, or <see cref="TextGenerator"/>'s caller).</summary>
internal sealed partial class ModelRunner(LlavaOneVision model, EngineOptions options, EngineMetrics metrics) : IModelRunner, IDisposable
{
    /// <summary>An ask's tensors: its KV cache, its sampler once it decodes, its prefix embeddings while they are prefilled.</summary>
    private sealed class Sequence : IDisposable
    {
        public KvCache? Cache;
        public TokenSampler? Sampler;
        public Tensor? PrefixEmbeds;   // [1, L, D]
        /// <summary>Evidence asks: records the visual attention once the cache reaches the last prompt position.</summary>
        public AttentionProbe? Probe;

        public void Dispose()
        {
            Probe?.Dispose();
            Cache?.Dispose();
            Sampler?.Dispose();
            PrefixEmbeds?.Dispose();
        }
    }

    private readonly Dictionary<ScheduledAsk, Sequence> _sequences = [];
    private readonly PrefixCache _prefixes = new(options.PrefixCacheBytes);
    private long _prefixHits, _prefixMisses, _prefixBytes;
    private int _maxDecodeBatch;

    public LlavaOneVision Model => model;
    public long PrefixCacheHits => Interlocked.Read(ref _prefixHits);
    public long PrefixCacheMisses => Interlocked.Read(ref _prefixMisses);
    public long PrefixCacheBytes => Interlocked.Read(ref _prefixBytes);
    /// <summary>Largest number of sequences seen in one decode step.</summary>
    public int MaxDecodeBatch => Volatile.Read(ref _maxDecodeBatch);

    public int StartAsk(ScheduledAsk ask)
    {
        var request = ((IAskInput)ask).Request;
        if (ask is IScoreInput score && (Outside(score.YesId) || Outside(score.NoId)))
            throw new ArgumentException($"the answer ids {score.YesId} and {score.NoId} must lie in the vocabulary (0..{model.Config.Text.VocabSize - 1})");
        var cached = ask.UsePrefixCache ? _prefixes.TryClone(ask.PrefixKey, ask.QuestionIds.Length + ask.MaxNewTokens) : null;
        Interlocked.Increment(ref cached is not null ? ref _prefixHits : ref _prefixMisses);
        metrics.PrefixCacheLookups.Add(1, new KeyValuePair<string, object?>("result", cached is not null ? "hit" : "miss"));
        var sequence = new Sequence
        {
            Cache = cached ?? model.Language.NewCache(ask.PrefixIds.Length + ask.VisualTokens + ask.QuestionIds.Length + ask.MaxNewTokens),
        };
        _sequences[ask] = sequence;
        if (request.Evidence)
        {
            int visualStart = ask.PrefixIds.Length - 1;   // the image position becomes the visual rows
            sequence.Probe = new AttentionProbe(visualStart, ask.VisualTokens);
            ((IAskInput)ask).Evidence = new EvidenceCollector(visualStart, ask.VisualTokens, model.Config.SpatialPoolStride);
        }
        if (cached is not null) return 0;
        using var scope = NewDisposeScope();
        sequence.PrefixEmbeds = model.PromptEmbeddings(ask.PrefixIds, VisualTokens(request.Encoding)).DetachFromDisposeScope();   // [1, L, D]
        return (int)sequence.PrefixEmbeds.shape[1];
    }

    /// <summary>Runs the next prefix positions into the ask's cache; a complete prefix goes into the prefix cache.</summary>
    public void PrefillPrefix(PrefixChunk chunk)
    {
        var (ask, length) = chunk;
        var sequence = _sequences[ask];
        using (NewDisposeScope())
        using (model.PrefillRegion(length))
            model.Language.Forward(sequence.PrefixEmbeds!.narrow(1, ask.PrefixDone, length), sequence.Cache!, lastOnly: true);
        if (ask.PrefixDone + length < ask.PrefixLength) return;
        sequence.PrefixEmbeds!.Dispose();
        sequence.PrefixEmbeds = null;
        if (ask.UsePrefixCache) _prefixes.Put(ask.PrefixKey, sequence.Cache!);
        Interlocked.Exchange(ref _prefixBytes, _prefixes.Bytes);
        if (ask.VisualTokens >= Qwen2ForCausalLM.LongPrompt) HeapTrim.Release();
    }

    /// <summary>One ragged batch of question chunks; an ask whose question is complete gets its sampler and first token.</summary>
    public IReadOnlyList<long?> PrefillQuestions(IReadOnlyList<QuestionChunk> chunks)
    {
        using var scope = NewDisposeScope();
        var ids = chunks.Select(c => c.Ask.QuestionIds.AsSpan(c.From, c.Count).ToArray()).ToList();
        // An evidence ask records from its last prompt position on: that position's attention produces the first token
        // (for a scoring request, the answer's log-probabilities).
        foreach (var chunk in chunks)
            if (chunk.Completes && _sequences[chunk.Ask] is { Probe: { } probe } evidence) evidence.Cache!.Probe = probe;
        using var region = model.PrefillRegion((long)ids.Count * ids.Max(i => i.Length));   // padded to the longest
        var logits = model.Language.PrefillBatch(ids, chunks.Select(c => _sequences[c.Ask].Cache!).ToList());   // [B, V]
        var first = new long?[chunks.Count];
        for (int i = 0; i < chunks.Count; i++)
        {
            if (!chunks[i].Completes) continue;
            var sequence = _sequences[chunks[i].Ask];
            RecordStep(chunks[i].Ask, sequence);   // an evidence score keeps its scoring position's attention
            if (chunks[i].Ask is IScoreInput score)
            {
                first[i] = RecordScore(score, logits[i]);
                continue;
            }
            sequence.Sampler = new TokenSampler(((IAskInput)chunks[i].Ask).Request.Sampling);
            first[i] = sequence.Sampler.Next(logits[i]);
        }
        return first;
    }

    /// <summary>One decode step for every running ask; the decoder's linears run the CPU few-row kernel
    /// when <c>Engine:DecodeKernel</c> is on.</summary>
    public IReadOnlyList<long> Decode(IReadOnlyList<ScheduledAsk> asks)
    {
        var clock = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        using var kernel = options.DecodeKernel ? SkinnyLinear.For(asks.Count, model.Device.type, model.DType, model.Bf16Resident) : default;
        var sequences = asks.Select(a => _sequences[a]).ToList();
        var logits = model.Language.DecodeBatch(asks.Select(a => a.Next).ToList(), sequences.Select(s => s.Cache!).ToList());   // [B, V]
        var next = new long[asks.Count];
        for (int i = 0; i < asks.Count; i++)
        {
            next[i] = sequences[i].Sampler!.Next(logits[i]);
            RecordStep(asks[i], sequences[i]);
        }
        metrics.DecodeBatchSize.Record(asks.Count);
        if (asks.Count > _maxDecodeBatch) Volatile.Write(ref _maxDecodeBatch, asks.Count);
        metrics.DecodeStepDuration.Record(clock.Elapsed.TotalMilliseconds);
        return next;
    }

    private bool Outside(int id) => id < 0 || id >= model.Config.Text.VocabSize;

    /// <summary>Log-softmax over the whole vocabulary (in float64) at the first answer position; returns the likelier answer id.</summary>
    private static long RecordScore(IScoreInput score, Tensor logits)
    {
        using var scope = NewDisposeScope();
        var logProbs = logits.to_type(ScalarType.Float64).log_softmax(0);
        double yes = logProbs[score.YesId].item<double>(), no = logProbs[score.NoId].item<double>();
        score.Record(yes, no);
        return yes >= no ? score.YesId : score.NoId;
    }

    /// <summary>Hands an evidence ask's step (the attention that produced its latest token) to its collector.</summary>
    private static void RecordStep(ScheduledAsk ask, Sequence sequence)
    {
        if (sequence.Probe?.TakeStep() is { } masses) ((IAskInput)ask).Evidence!.Add(masses);
    }

    /// <summary>The LLM's visual tokens [N, D] for an encoding (VQ-Attention runs here, on the device).</summary>
    private Tensor VisualTokens(VideoEncoding encoding)
    {
        if (encoding.Mode == CompressionMode.Full)
            return tensor(encoding.FullTokens ?? throw new ArgumentException("full-mode encoding without tokens"), [encoding.VisualTokens, encoding.Dim]);
        var compressed = encoding.Compressed ?? throw new ArgumentException("VQToken encoding without codebook");
        if (compressed.Dim != model.Config.Text.HiddenSize)
            throw new ArgumentException($"the cached codebook has width {compressed.Dim}, the model {model.Config.Text.HiddenSize}: re-encode the video");
        // The index map (T·g·g labels) only feeds VQ-Attention: on the codebook path building it would make every ask cost O(frames).
        var indexMap = compressed.TokenPath == TokenPath.Attention ? compressed.IndexMapTensor() : null;
        return model.VQTokens(indexMap, compressed.CodebookTensor(), compressed.TokenPath);
    }

    /// <summary>Drops the cached prompt prefixes of a video.</summary>
    public void Forget(string videoKey)
    {
        _prefixes.Forget(videoKey);
        Interlocked.Exchange(ref _prefixBytes, _prefixes.Bytes);
    }

    public void Release(ScheduledRequest request)
    {
        if (request is ScheduledAsk ask && _sequences.Remove(ask, out var sequence)) sequence.Dispose();
        else if (request is ScheduledEncode encode && _videos.Remove(encode, out var video)) video.Dispose();
    }

    public void Dispose()
    {
        foreach (var s in _sequences.Values) s.Dispose();
        foreach (var v in _videos.Values) v.Dispose();
        _sequences.Clear();
        _videos.Clear();
        _prefixes.Dispose();
    }
}
