using System.Threading.Channels;
using VQToken.Engine.Generation;
using VQToken.Engine.Runtime;
using VQToken.Engine.Text;

namespace VQToken.Engine.Output;

/// <summary>What one answer came to: the text as every front door reports it, why it ended, the
/// completion token count, and the engine's result (null when a stop string ended it early).</summary>
public sealed record GeneratedAnswer(string Text, FinishReason FinishReason, int CompletionTokens, AskResult? Engine);

/// <summary>The one answer path of the HTTP ask, the OpenAI route, <c>eval</c> and <c>bench</c>: the
/// tokenizer's stop ids end generation in the engine, the <see cref="OutputProcessor"/> turns the streamed
/// ids into text and ends it at the first stop string (the engine request is then cancelled).</summary>
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
        var tokens = Channel.CreateUnbounded<long>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        using var stopEarly = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (deadline is { } limit) stopEarly.CancelAfter(limit);
        var run = engine.AskAsync(request with { Sampling = sampling, OnToken = t => tokens.Writer.TryWrite(t) }, stopEarly.Token);
        _ = run.ContinueWith(_ => tokens.Writer.TryComplete(), TaskScheduler.Default);

        var output = new OutputProcessor(tokenizer, stopStrings);
        await foreach (var token in tokens.Reader.ReadAllAsync(CancellationToken.None))
        {
            var piece = output.Push(token);
            if (output.StoppedByString) stopEarly.Cancel();
            if (piece.Length > 0 && onText is not null) await onText(piece);
            if (output.StoppedByString) break;
        }
        AskResult? result = null;
        try
        {
            result = await run;
        }
        catch (OperationCanceledException) when (output.StoppedByString && !cancellationToken.IsCancellationRequested) { }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && deadline is not null)
        {
            throw new TimeoutException($"the answer did not finish within {deadline.Value.TotalSeconds:0.###} s");
        }
        if (!output.StoppedByString)
        {
            var rest = output.Complete(result!.FinishReason);
            if (rest.Length > 0 && onText is not null) await onText(rest);
        }
        return new GeneratedAnswer(output.Text, output.FinishReason!.Value, result?.Tokens.Count ?? output.CompletionTokens, result);
    }

    /// <summary>The ids that end every answer: the tokenizer's end-of-turn and end-of-text.</summary>
    public static IReadOnlySet<long> StopIds(QwenTokenizer tokenizer) => tokenizer.StopTokenIds.Select(i => (long)i).ToHashSet();
}
