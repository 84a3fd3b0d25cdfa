using VQToken.Engine.Scheduling;

namespace VQToken.Engine.Tests.Scheduling;

/// <summary>A model runner without a model: it records what each step ran and answers with scripted
/// tokens, so the scheduler's decisions can be checked without TorchSharp.</summary>
internal sealed class FakeRunner : IModelRunner
{
    /// <summary>Prefix keys whose KV cache is "cached" (a completed prefix of an ask that uses the cache).</summary>
    public readonly HashSet<string> CachedPrefixes = [];
    public readonly HashSet<ScheduledRequest> Held = [];
    public readonly List<string> Log = [];
    /// <summary>Each ask's tokens in order: the first comes from its prefill, the rest from decode steps.</summary>
    public Func<ScheduledAsk, int, long> NextToken = (_, i) => 100 + i;
    /// <summary>Compression slices a video needs.</summary>
    public int SlicesPerVideo = 2;
    public Func<ScheduledRequest, Exception?> Fault = _ => null;
    public readonly List<int> DecodeBatches = [], FrameBatches = [], PrefillPositions = [];
    private readonly Dictionary<ScheduledEncode, int> _slices = [];

    public int StartAsk(ScheduledAsk ask)
    {
        if (Fault(ask) is { } error) throw error;
        Held.Add(ask);
        return ask.UsePrefixCache && CachedPrefixes.Contains(ask.PrefixKey) ? 0 : ask.PrefixIds.Length - 1 + ask.VisualTokens;
    }

    public void PrefillPrefix(PrefixChunk chunk)
    {
        Log.Add($"prefix {chunk.Length}");
        PrefillPositions.Add(chunk.Length);
        if (chunk.Ask.PrefixDone + chunk.Length == chunk.Ask.PrefixLength && chunk.Ask.UsePrefixCache) CachedPrefixes.Add(chunk.Ask.PrefixKey);
    }

    public IReadOnlyList<long?> PrefillQuestions(IReadOnlyList<QuestionChunk> chunks)
    {
        Log.Add("questions " + string.Join(',', chunks.Select(c => c.Count)));
        PrefillPositions.Add(chunks.Sum(c => c.Count));
        return chunks.Select(c => c.Completes ? NextToken(c.Ask, 0) : (long?)null).ToArray();
    }

    public IReadOnlyList<long> Decode(IReadOnlyList<ScheduledAsk> asks)
    {
        DecodeBatches.Add(asks.Count);
        return asks.Select(a => NextToken(a, a.Tokens.Count)).ToArray();
    }

    public void EncodeFrames(IReadOnlyList<FrameSlice> slices)
    {
        FrameBatches.Add(slices.Sum(s => s.Count));
        foreach (var s in slices) Held.Add(s.Encode);
    }

    public bool StartCompression(ScheduledEncode encode)
    {
        if (Fault(encode) is { } error) throw error;
        _slices[encode] = 0;
        return false;
    }

    public bool CompressSlice(ScheduledEncode encode) => ++_slices[encode] == SlicesPerVideo;

    public void Release(ScheduledRequest request) => Held.Remove(request);
}

/// <summary>An ask whose outcome the test reads back.</summary>
internal sealed class TestAsk(string prefixKey, int questionTokens, int maxNewTokens = 4, IReadOnlySet<long>? stopIds = null, bool usePrefixCache = true,
    int visualTokens = 5, Action<long>? onToken = null) : ScheduledAsk(prefixKey, [1, 2, -200], Enumerable.Range(10, questionTokens).Select(i => (long)i).ToArray(), visualTokens,
    maxNewTokens, stopIds ?? new HashSet<long>(), usePrefixCache, onToken)
{
    public string Outcome { get; private set; } = "running";
    public Exception? Error { get; private set; }
    public override void Complete() => Outcome = "completed";
    public override void Fail(Exception error) => (Outcome, Error) = ("failed", error);
    public override void Cancel() => Outcome = "cancelled";
}

internal sealed class TestEncode(int frames) : ScheduledEncode(frames)
{
    public string Outcome { get; private set; } = "running";
    public readonly List<string> Stages = [];
    public override void Report(string stage) => Stages.Add($"{stage} {FramesEncoded}");
    public override void Complete() => Outcome = "completed";
    public override void Fail(Exception error) => Outcome = "failed";
    public override void Cancel() => Outcome = "cancelled";
}
