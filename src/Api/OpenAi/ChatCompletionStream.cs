using Microsoft.AspNetCore.Mvc;
using VQToken.Api.ServiceDefaults;

namespace VQToken.Api.OpenAi;

/// <summary>Writes a streamed completion as OpenAI does: plain <c>data:</c> events (no event names) of
/// <c>chat.completion.chunk</c> objects — the role first, then content deltas, then the finish reason, then
/// (with include_usage) the usage with empty choices — ended by <c>data: [DONE]</c>. The response starts
/// with the first text, so errors found before it (overload, model not ready) keep their HTTP status.</summary>
public sealed class ChatCompletionStream(HttpContext context, string id, long created, string model, string systemFingerprint)
{
    public const string Done = "[DONE]";
    private ServerSentEvents? _events;

    /// <summary>True once the response has started (headers sent): errors then go into the stream.</summary>
    public bool Started => _events is not null;

    public async Task WriteContentAsync(string text)
    {
        await StartAsync();
        await WriteAsync(Chunk(new ChatCompletionDelta(null, text), null));
    }

    public async Task FinishAsync(string finishReason, ChatCompletionUsage? usage, VQTokenDetails details)
    {
        await StartAsync();
        await WriteAsync(Chunk(new ChatCompletionDelta(null, null), finishReason) with { VQToken = details });
        if (usage is not null) await WriteAsync(new ChatCompletionChunk(id, created, model, systemFingerprint, []) { Usage = usage });
        await _events!.WriteRawAsync(null, Done, context.RequestAborted);
    }

    /// <summary>An error after the stream started: an event with OpenAI's <c>error</c> object (OpenAI clients
    /// raise it), and no <c>[DONE]</c>.</summary>
    public Task FailAsync(ProblemDetails problem)
    {
        OpenAiError.Attach(problem);
        return _events!.WriteJsonAsync(null, new Dictionary<string, object?> { [OpenAiError.Member] = problem.Extensions[OpenAiError.Member] }, context.RequestAborted);
    }

    private async Task StartAsync()
    {
        if (_events is not null) return;
        _events = await ServerSentEvents.StartAsync(context);
        await WriteAsync(Chunk(new ChatCompletionDelta("assistant", ""), null));
    }

    private ChatCompletionChunk Chunk(ChatCompletionDelta delta, string? finishReason) =>
        new(id, created, model, systemFingerprint, [new ChatCompletionChunkChoice(delta, finishReason)]);

    private Task WriteAsync(ChatCompletionChunk chunk) => _events!.WriteJsonAsync(null, chunk, context.RequestAborted);
}
