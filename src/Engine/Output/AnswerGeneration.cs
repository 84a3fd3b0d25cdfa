using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using VQToken.Engine.Generation;
using VQToken.Engine.Runtime;
using VQToken.Engine.Text;

namespace VQToken.Engine.Output;

/// <summary>What one answer came to: the text as every front door reports it, why it ended, the
/// completion token count (a stop string's tokens included), and the engine's result.</summary>
public sealed record GeneratedAnswer(string Text, FinishReason FinishReason, int CompletionTokens, AskResult Engine);

/// <summary>The one answer path of the HTTP ask, the OpenAI route, <c>eval</c> and <c>bench</c>: the
/// tokenizer's stop ids end generation in the engine; the <see cref="OutputProcessor"/> turns each id into text
/// as the engine hands it over and, at the first stop string, raises the ask's <see cref="FinishSignal"/>, so the
/// engine finishes it there with its result (and evidence) rather than being cancelled.</summary>
public static class AnswerGeneration
{
    /// <summary>Asks <paramref name="engine"/>; final text pieces go to <paramref name="onText"/> as they
    /// come. Past <paramref name="deadline"/> it throws <see cref="TimeoutException"/>. <paramref name="stopIds"/>
    /// replaces the tokenizer's stop ids only where a fixed answer length is the point (bench).</summary>
    public static async Task<GeneratedAnswer> GenerateAsync(InferenceEngine engine, QwenTokenizer tokenizer, AskRequest request,
        IReadOnlyList<string> stopStrings, Func<string, Task>? onText = null, TimeSpan? deadline = null, CancellationToken cancellationToken = default,
        IReadOnlySet<long>? stopIds = null)
    {
        var sampling = request.Sampling with { StopIds = stopIds ?? StopIds(tokenizer) };
        var pieces = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var output = new OutputProcessor(tokenizer, stopStrings);
        var finish = new FinishSignal();
        ExceptionDispatchInfo? decodeError = null;
        // Runs on the engine thread, so a stop string ends the answer at the very token that completed it.
        void OnToken(long token)
        {
            if (output.FinishReason is not null || decodeError is not null) return;
            try
            {
                var piece = output.Push(token);
                if (output.StoppedByString) finish.Raise();
                if (piece.Length > 0) pieces.Writer.TryWrite(piece);
            }
            catch (Exception e)
            {
                decodeError = ExceptionDispatchInfo.Capture(e);
                finish.Raise();
            }
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (deadline is { } limit) stop.CancelAfter(limit);
        var run = engine.AskAsync(request with { Sampling = sampling, OnToken = OnToken, Finish = finish }, stop.Token);
        _ = run.ContinueWith(_ => pieces.Writer.TryComplete(), TaskScheduler.Default);

        await foreach (var piece in pieces.Reader.ReadAllAsync(CancellationToken.None))
            if (onText is not null) await onText(piece);
        AskResult result;
        try
        {
            result = await run;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && deadline is not null)
        {
            throw new TimeoutException($"the answer did not finish within {deadline.Value.TotalSeconds:0.###} s");
        }
        decodeError?.Throw();
        var rest = output.Complete(result.FinishReason);   // after a stop string: nothing, and the reason stays Stop
        if (rest.Length > 0 && onText is not null) await onText(rest);
        return new GeneratedAnswer(output.Text, output.FinishReason!.Value, result.Tokens.Count, result);
    }

    /// <summary>The ids that end every answer: the tokenizer's end-of-turn and end-of-text.</summary>
    public static IReadOnlySet<long> StopIds(QwenTokenizer tokenizer) => tokenizer.StopTokenIds.Select(i => (long)i).ToHashSet();
}
