using System.Diagnostics;
using VQToken.Engine.Generation;
using static TorchSharp.torch;

namespace VQToken.Engine.Runtime;

/// <summary>A request as the engine thread tracks it: its completion, cancellation and timing.</summary>
internal abstract class EngineWork<TResult>
{
    private readonly TaskCompletionSource<TResult> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenRegistration _onCancel;
    public readonly Stopwatch Clock = Stopwatch.StartNew();
    public readonly ActivityContext Parent = Activity.Current?.Context ?? default;
    public CancellationToken Cancellation { get; init; }
    public Task<TResult> Task => _done.Task;

    public bool IsCancelled => Cancellation.IsCancellationRequested;

    /// <summary>The caller's task ends the moment its token is cancelled, whatever the engine thread is
    /// doing; the engine drops the work (and frees its memory) at its next step.</summary>
    public void CancelPromptly() => _onCancel = Cancellation.UnsafeRegister(static state => ((EngineWork<TResult>)state!).Cancel(), this);

    public void Complete(TResult result) { _done.TrySetResult(result); _onCancel.Unregister(); }
    public void Fail(Exception error) { _done.TrySetException(error); _onCancel.Unregister(); }
    public void Cancel() => _done.TrySetCanceled(Cancellation);
    public virtual void Release() { }
}

internal sealed class EncodeWork : EngineWork<VideoEncoding>
{
    public required EncodeRequest Request { get; init; }
    public IProgress<EncodeProgress>? Progress { get; init; }
    public int FramesEncoded;
    public double VisionMs, CompressionMs;
    /// <summary>Projected features of the frames encoded so far, [n, P, D] chunks (engine-owned).</summary>
    public readonly List<Tensor> Projected = [];
    /// <summary>The K-means in progress once every frame is encoded, one slice per engine step.</summary>
    public Compression.CompressionJob? Job;
    public long Frames, TokensPerFrame, Dim;
    public Activity? CompressActivity;

    public void ReleaseFrames()
    {
        foreach (var t in Projected) t.Dispose();
        Projected.Clear();
    }

    public override void Release()
    {
        ReleaseFrames();
        Job?.Dispose();
        Job = null;
        CompressActivity?.Dispose();
        CompressActivity = null;
    }
}

internal sealed class AskWork : EngineWork<AskResult>
{
    public required AskRequest Request { get; init; }
    public KvCache? Cache;
    public TokenSampler? Sampler;
    /// <summary>Prompt up to and including the image position, and the question after it.</summary>
    public long[] PrefixIds = [], QuestionIds = [];
    public string PrefixKey = "";
    /// <summary>Embeddings of the prefix (system prompt + visual tokens) while it is prefilled, [1, L, D].</summary>
    public Tensor? PrefixEmbeds;
    /// <summary>Positions of the prefix and of the question already in the cache; PrefixLength is -1 until known.</summary>
    public int PrefixLength = -1, PrefixDone, QuestionDone;
    public bool PrefixResolved;
    public readonly Stopwatch PrefillClock = new();
    public Activity? PrefillActivity;
    public readonly List<long> Tokens = [];
    public long Next;
    public int PromptTokens;
    public bool PrefixHit;
    public double QueueMs, PrefillMs, FirstTokenMs;
    public readonly Stopwatch DecodeClock = new();

    public bool PrefixPending => !PrefixResolved || PrefixDone < PrefixLength;

    public override void Release()
    {
        Cache?.Dispose();
        Sampler?.Dispose();
        PrefixEmbeds?.Dispose();
        PrefillActivity?.Dispose();
        Cache = null;
        Sampler = null;
        PrefixEmbeds = null;
        PrefillActivity = null;
    }
}
