using System.Diagnostics;
using VQToken.Engine.Generation;

namespace VQToken.Engine.Scheduling;

/// <summary>A request as the scheduler tracks it: its cancellation, clock and how it leaves the engine.
/// Holds no tensors: the model runner keeps those, keyed by the request.</summary>
public abstract class ScheduledRequest
{
    public readonly Stopwatch Clock = Stopwatch.StartNew();
    public readonly ActivityContext Parent = Activity.Current?.Context ?? default;
    public CancellationToken Cancellation { get; init; }
    public bool IsCancelled => Cancellation.IsCancellationRequested;

    /// <summary>The request is done: its result is final.</summary>
    public abstract void Complete();
    public abstract void Fail(Exception error);
    public abstract void Cancel();
}

/// <summary>One question over a video's visual tokens: the prompt split at its image position into the
/// prefix (system prompt + image, shared across asks of a video) and the question, and its progress.</summary>
public class ScheduledAsk(string prefixKey, long[] prefixIds, long[] questionIds, int visualTokens, int maxNewTokens,
    IReadOnlySet<long> stopIds, bool usePrefixCache = true, Action<long>? onToken = null) : ScheduledRequest
{
    public string PrefixKey { get; } = prefixKey;
    /// <summary>Prompt ids up to and including the image position, and the question after it.</summary>
    public long[] PrefixIds { get; } = prefixIds;
    public long[] QuestionIds { get; } = questionIds;
    public int VisualTokens { get; } = visualTokens;
    public int MaxNewTokens { get; } = maxNewTokens;
    public IReadOnlySet<long> StopIds { get; } = stopIds;
    public bool UsePrefixCache { get; } = usePrefixCache;
    /// <summary>Prompt positions the model reads: the image position becomes the visual tokens.</summary>
    public int PromptTokens => PrefixIds.Length + QuestionIds.Length - 1 + VisualTokens;

    /// <summary>Prefix positions to compute (0 after a prefix-cache hit; -1 until looked up) and done so far.</summary>
    public int PrefixLength = -1, PrefixDone, QuestionDone;
    public bool PrefixResolved, PrefixHit;
    public bool PrefixPending => !PrefixResolved || PrefixDone < PrefixLength;

    public readonly List<long> Tokens = [];
    /// <summary>The token sampled last, not yet emitted.</summary>
    public long Next;
    public FinishReason FinishReason;
    public double QueueMs, PrefillMs, FirstTokenMs;
    public readonly Stopwatch PrefillClock = new(), DecodeClock = new();
    public Activity? PrefillActivity;
    /// <summary>Called on the engine thread for every emitted token.</summary>
    public Action<long>? OnToken { get; } = onToken;
    /// <summary>A scoring request: it ends at its first answer position (the runner records the answer
    /// log-probabilities there) and never decodes; otherwise it shares admission and prefill budgets with asks.</summary>
    public bool ScoresOnly { get; init; }
    /// <summary>The caller's signal to end the answer as finished; <see cref="FinishedEarly"/> once it did.</summary>
    public Runtime.FinishSignal? Finish { get; init; }
    public bool FinishedEarly;

    public override void Complete() { }
    public override void Fail(Exception error) { }
    public override void Cancel() { }
}

/// <summary>One video's frames through the vision tower, then its compression, slice by slice.</summary>
public class ScheduledEncode(int framesTotal) : ScheduledRequest
{
    public int FramesTotal { get; } = framesTotal;
    public int FramesEncoded;
    public double VisionMs, CompressionMs;

    /// <summary>Frames that can go through the vision tower now, up to <paramref name="wanted"/> (all of them, unless
    /// they are still being decoded).</summary>
    public virtual int FramesReady(int wanted) => wanted;

    /// <summary>Why the missing frames will never come (the decoder failed or stopped early); null otherwise.</summary>
    public virtual Exception? FrameSourceFailure => null;

    /// <summary>Where the encoding stands ("encoding", "compressed"), for the caller's progress.</summary>
    public virtual void Report(string stage) { }
    public override void Complete() { }
    public override void Fail(Exception error) { }
    public override void Cancel() { }
}
