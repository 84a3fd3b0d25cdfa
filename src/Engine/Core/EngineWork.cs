using TorchSharp;
using VQToken.Engine.Execution;
using VQToken.Engine.Generation;
using VQToken.Engine.Models;
using VQToken.Engine.Output;
using VQToken.Engine.Runtime;
using VQToken.Engine.Scheduling;

namespace VQToken.Engine.Core;

/// <summary>The caller's side of a request: its task, completed by the engine thread, and ended at once
/// when the caller's token is cancelled (the engine drops the work and frees its memory at its next step).</summary>
internal sealed class Completion<TResult>
{
    private readonly TaskCompletionSource<TResult> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenRegistration _onCancel;
    private CancellationToken _token;

    public Task<TResult> Task => _done.Task;

    public void CancelPromptly(CancellationToken token)
    {
        _token = token;
        _onCancel = token.UnsafeRegister(static state => ((Completion<TResult>)state!).Cancel(), this);
    }

    public void Complete(TResult result) { _done.TrySetResult(result); _onCancel.Unregister(); }
    public void Fail(Exception error) { _done.TrySetException(error); _onCancel.Unregister(); }
    public void Cancel() => _done.TrySetCanceled(_token);
}

/// <summary>An ask as the engine holds it: the caller's request and task around the scheduler's view.</summary>
internal sealed class AskWork : ScheduledAsk, IAskInput
{
    public AskRequest Request { get; }
    public EvidenceCollector? Evidence { get; set; }
    public Completion<AskResult> Done { get; } = new();

    public AskWork(AskRequest request, CancellationToken cancellation) : base(PrefixKeyOf(request, out var prefix, out var question), prefix, question,
        request.Encoding.VisualTokens, request.Sampling.MaxNewTokens, request.Sampling.StopIds, request.UsePrefixCache, request.OnToken)
    {
        Request = request;
        Cancellation = cancellation;
        Finish = request.Finish;
    }

    /// <summary>Splits the prompt at its image position; the prefix's cache key names the video, its encoding and the prefix ids.</summary>
    internal static string PrefixKeyOf(AskRequest request, out long[] prefix, out long[] question)
    {
        int image = request.PromptIds.ToList().IndexOf((int)LlavaOneVision.ImageTokenIndex);
        prefix = request.PromptIds.Take(image + 1).Select(i => (long)i).ToArray();
        question = request.PromptIds.Skip(image + 1).Select(i => (long)i).ToArray();
        return $"{request.VideoKey}|{request.Encoding.Mode}|{request.Encoding.VisualTokens}|{string.Join(',', prefix)}";
    }

    public override void Complete()
    {
        var evidence = Evidence?.Result(Tokens.Count, Request.Encoding);
        Done.Complete(new AskResult(Tokens.ToArray(), FinishReason, PromptTokens, VisualTokens, PrefixHit,
            QueueMs, PrefillMs, DecodeClock.Elapsed.TotalMilliseconds, Clock.Elapsed.TotalMilliseconds, FirstTokenMs,
            evidence?.Evidence, evidence?.Attention));
    }

    public override void Fail(Exception error) => Done.Fail(error);
    public override void Cancel() => Done.Cancel();
}

/// <summary>A scoring request as the engine holds it: an ask of one greedy token over the same prompt split and
/// prefix key (so asks and scores of a video share its cached prefix) that ends at its first answer position.</summary>
internal sealed class ScoreWork : ScheduledAsk, IAskInput, IScoreInput
{
    private double _yes, _no;
    public AskRequest Request { get; }
    public EvidenceCollector? Evidence { get; set; }
    public Completion<ScoreResult> Done { get; } = new();
    public int YesId { get; }
    public int NoId { get; }

    public ScoreWork(ScoreRequest score, CancellationToken cancellation) : this(AsAsk(score), score, cancellation) { }

    private ScoreWork(AskRequest request, ScoreRequest score, CancellationToken cancellation) : base(AskWork.PrefixKeyOf(request, out var prefix, out var question),
        prefix, question, request.Encoding.VisualTokens, maxNewTokens: 1, new HashSet<long>(), request.UsePrefixCache)
    {
        (Request, YesId, NoId, ScoresOnly, Cancellation) = (request, score.YesId, score.NoId, true, cancellation);
    }

    private static AskRequest AsAsk(ScoreRequest score) =>
        new(score.VideoKey, score.Encoding, score.PromptIds, SamplingOptions.Greedy(1), score.UsePrefixCache, Evidence: score.Evidence);

    public void Record(double logProbYes, double logProbNo) => (_yes, _no) = (logProbYes, logProbNo);

    /// <summary>The evidence is the one step the runner recorded: the scoring position's attention.</summary>
    public override void Complete()
    {
        var evidence = Evidence?.Result(1, Request.Encoding);
        Done.Complete(new ScoreResult(_yes - _no, _yes, _no, PromptTokens, VisualTokens, PrefixHit,
            QueueMs, PrefillMs, Clock.Elapsed.TotalMilliseconds, evidence?.Evidence, evidence?.Attention));
    }
    public override void Fail(Exception error) => Done.Fail(error);
    public override void Cancel() => Done.Cancel();
}

/// <summary>A video encoding as the engine holds it; the model runner sets <see cref="Encoding"/> when done.
/// Its frames are all there (<see cref="EncodeRequest.Frames"/>) or arrive as a stream.</summary>
internal sealed class EncodeWork : ScheduledEncode, IEncodeInput
{
    private readonly IProgress<EncodeProgress>? _progress;
    private CancellationTokenRegistration _wakeOnCancel;
    public EncodeRequest Request { get; }
    public Completion<VideoEncoding> Done { get; } = new();
    public VideoEncoding? Encoding { get; set; }

    public EncodeWork(EncodeRequest request, IProgress<EncodeProgress>? progress, CancellationToken cancellation) : base(request.FrameCount)
    {
        (Request, _progress) = (request, progress);
        Cancellation = cancellation;
    }

    /// <summary>Lets arriving frames and a cancellation wake the engine while it waits for frames.</summary>
    public void WakeWith(Action wake)
    {
        if (Request.Stream is null) return;
        _wakeOnCancel = Cancellation.UnsafeRegister(static state => ((Action)state!)(), wake);
        Request.Stream.OnArrival(wake);
    }

    public override int FramesReady(int wanted) => Request.Stream?.Ready(wanted) ?? wanted;
    public override Exception? FrameSourceFailure => Request.Stream?.Failure;

    public torch.Tensor Pixels(int from, int count, torch.Device device) => Request.Stream is { } stream
        ? stream.TakePixels(count, device)
        : Request.Frames!.ToPixels(from, count, device);

    public override void Report(string stage) => _progress?.Report(new EncodeProgress(stage, FramesEncoded, FramesTotal));
    public override void Complete() => Ended(() => Done.Complete((Encoding ?? throw new InvalidOperationException("the encoding was never produced"))
        with { VisionMs = VisionMs, CompressionMs = CompressionMs }));
    public override void Fail(Exception error) => Ended(() => Done.Fail(error));
    public override void Cancel() => Ended(Done.Cancel);

    /// <summary>Whatever way it ends, the stream stops (its producer sees a closed channel) and the wake-up goes.</summary>
    private void Ended(Action finish)
    {
        Request.Stream?.Abandon();
        _wakeOnCancel.Dispose();
        finish();
    }
}
