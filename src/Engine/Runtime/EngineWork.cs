using System.Diagnostics;
using VQToken.Engine.Generation;
using static TorchSharp.torch;

namespace VQToken.Engine.Runtime;

/// <summary>A request as the engine thread tracks it: its completion, cancellation and timing.</summary>
internal abstract class EngineWork<TResult>
{
    private readonly TaskCompletionSource<TResult> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public readonly Stopwatch Clock = Stopwatch.StartNew();
    public readonly ActivityContext Parent = Activity.Current?.Context ?? default;
    public CancellationToken Cancellation { get; init; }
    public Task<TResult> Task => _done.Task;

    public bool IsCancelled => Cancellation.IsCancellationRequested;
    public void Complete(TResult result) => _done.TrySetResult(result);
    public void Fail(Exception error) => _done.TrySetException(error);
    public void Cancel() => _done.TrySetCanceled(Cancellation);
    public virtual void Release() { }
}

internal sealed class EncodeWork : EngineWork<VideoEncoding>
{
    public required EncodeRequest Request { get; init; }
    public IProgress<EncodeProgress>? Progress { get; init; }
    public int FramesEncoded;
    public double VisionMs;
    /// <summary>Projected features of the frames encoded so far, [n, P, D] chunks (engine-owned).</summary>
    public readonly List<Tensor> Projected = [];

    public override void Release()
    {
        foreach (var t in Projected) t.Dispose();
        Projected.Clear();
    }
}

internal sealed class AskWork : EngineWork<AskResult>
{
    public required AskRequest Request { get; init; }
    public KvCache? Cache;
    public TokenSampler? Sampler;
    public readonly List<long> Tokens = [];
    public long Next;
    public int PromptTokens;
    public bool PrefixHit;
    public double QueueMs, PrefillMs, FirstTokenMs;
    public readonly Stopwatch DecodeClock = new();

    public override void Release()
    {
        Cache?.Dispose();
        Sampler?.Dispose();
        Cache = null;
        Sampler = null;
    }
}
