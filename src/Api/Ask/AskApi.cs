using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using VQToken.Api.ServiceDefaults;
using VQToken.Api.Videos;
using VQToken.Engine.Runtime;
using VQToken.Engine.Text;

namespace VQToken.Api.Ask;

/// <summary><c>POST /videos/{id}/ask</c>: answers a question from the video's few cached tokens.</summary>
public static class AskApi
{
    public static RouteHandlerBuilder MapAskApi(this IEndpointRouteBuilder app) =>
        app.MapPost("/videos/{id}/ask", AskVideo)
            .WithTags("Ask")
            .WithName("AskVideo")
            .WithSummary("Ask a question about a video")
            .WithDescription("Answers from the video's compressed tokens with Qwen2. A video still processing is waited for " +
                "(up to Ask:WaitForVideoSeconds); a failed one gives 409. With `Accept: text/event-stream` or `\"stream\": true` " +
                "the answer streams as Server-Sent Events (`token` events with text, then a `done` event with the full response; " +
                "an error after the stream started, such as the Ask:DeadlineSeconds deadline, ends it with an `error` event holding the problem instead). " +
                "With `\"evidence\": true` the response (the `done` event when streamed) also has `evidence`: the share of the answer's " +
                "attention on the video, each sampled frame's time and score (top first), each visual token's mass and cells, and " +
                "`picture`, the address of a heat picture of it (docs/EVIDENCE.md). Without it nothing is measured.")
            .Accepts<AskRequestBody>("application/json")
            .Produces<AskResponse>(StatusCodes.Status200OK)
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

    // Typed errors before a stream starts reach the error boundary; once the stream has started (status 200 sent)
    // it ends with an `error` event holding the problem instead of `done`.
    internal static async Task<Results<Ok<AskResponse>, EmptyHttpResult, ProblemHttpResult>> AskVideo(
        HttpContext context, string id, VideoAnswerer answerer, ErrorProblems errors, CancellationToken cancellationToken)
    {
        var (body, bodyProblem) = await JsonBody.ReadAsync<AskRequestBody>(context.Request, cancellationToken);
        if (body is null) return TypedResults.Problem(bodyProblem!);
        var question = body.Question?.Trim();
        if (string.IsNullOrEmpty(question))
            return TypedResults.Problem(Problems.Invalid("'question' is required", new Dictionary<string, string[]> { ["question"] = ["question must not be empty"] }));
        if (question.Length > answerer.Options.MaxQuestionChars)
            return TypedResults.Problem(Problems.Invalid("'question' is too long", new Dictionary<string, string[]> { ["question"] = [$"question must be at most {answerer.Options.MaxQuestionChars} characters"] }));
        var (parameters, invalid) = answerer.Validate(body.MaxNewTokens, body.Temperature, body.TopP, body.TopK, body.Seed, body.Stop);
        if (parameters is null) return TypedResults.Problem(Problems.Invalid("invalid generation settings", invalid));
        parameters = parameters with { Evidence = body.Evidence == true };
        var messages = new[] { new ChatMessage(ChatRole.User, question) };
        if (answerer.PromptTooLong(messages) is { } tooLong)
            return TypedResults.Problem(Problems.Invalid("'question' is too long", new Dictionary<string, string[]> { ["question"] = [tooLong] }));
        if (!VideoId.IsValid(id)) return TypedResults.Problem(Problems.VideoNotFound(id));

        var (video, notReady) = await answerer.PrepareAsync(Caller.Owner(context), id, cancellationToken);
        if (video is null) return TypedResults.Problem(notReady!);
        if (!ServerSentEvents.Wants(context.Request, body.Stream))
            return TypedResults.Ok(Response(video, await answerer.AnswerAsync(video, messages, parameters, null, cancellationToken)));
        ServerSentEvents? events = null;
        try
        {
            var streamed = await answerer.AnswerAsync(video, messages, parameters, async text =>
            {
                events ??= await ServerSentEvents.StartAsync(context);
                await events.WriteJsonAsync("token", new AskTokenEvent(text), cancellationToken);
            }, cancellationToken);
            events ??= await ServerSentEvents.StartAsync(context);
            await events.WriteJsonAsync("done", Response(video, streamed), cancellationToken);
            return TypedResults.Empty;
        }
        catch (Exception e) when (events is not null && errors.MapFor(context.Response, e) is { } problem)
        {
            await events.WriteJsonAsync("error", problem, cancellationToken);
            return TypedResults.Empty;
        }
    }

    internal static AskResponse Response(PreparedVideo video, Answer answer)
    {
        var e = answer.Engine;
        var encoding = video.Encoding;
        return new AskResponse(answer.Text, answer.FinishReason,
            new AskUsage(encoding.VisualTokens, answer.PromptTokens, answer.CompletionTokens),
            AskCompression.Of(video),
            new AskTimings(e.QueueMs, e.PrefillMs, e.DecodeMs, answer.TotalMs),
            new AskCacheInfo(video.CodebookFromCache ? "hit" : "miss", e.PrefixCacheHit ? "hit" : "miss"), answer.Evidence);
    }
}
