using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using VQToken.Api.Ask;
using VQToken.Api.ServiceDefaults;
using VQToken.Api.Videos;
using VQToken.Engine.Runtime;
using VQToken.Ingestion;

namespace VQToken.Api.OpenAi;

/// <summary><c>/v1</c>: an OpenAI-compatible Chat Completions endpoint over the service's one model, so
/// OpenAI clients (openai npm/pip) can ask about videos; and the model list those clients look up.</summary>
public static class OpenAiApi
{
    public const string Prefix = "/v1";

    /// <summary>Maps the endpoints. Their problems carry OpenAI's <c>error</c> object through
    /// <see cref="OpenAiServiceCollectionExtensions.AddOpenAiApi"/>.</summary>
    public static RouteGroupBuilder MapOpenAiApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(Prefix).WithTags("OpenAI-compatible");

        group.MapPost("/chat/completions", CreateChatCompletion)
            .WithName("CreateChatCompletion")
            .WithSummary("Answer a chat about a video (OpenAI Chat Completions)")
            .WithDescription("OpenAI's Chat Completions request with one video in a user message: a `video_url` part " +
                "(`{\"type\":\"video_url\",\"video_url\":{\"url\":\"https://…\"}}` is fetched and processed like POST /videos with a URL; " +
                "`vqtoken://videos/{id}` names an uploaded video), a `{\"type\":\"video\",\"video_id\":\"{id}\"}` part, or the " +
                "top-level `video_id` extension. Honours `max_tokens`/`max_completion_tokens`, `temperature`, `top_p`, `seed`, " +
                "`stop`, `n` (1 only), `stream` and `stream_options.include_usage`; other fields are ignored. The video is " +
                "waited for while it processes. With `\"stream\": true` the answer streams as `data:` events of " +
                "`chat.completion.chunk` objects ended by `data: [DONE]`. Errors are problem details that also carry " +
                "OpenAI's `error` object. The `vqtoken` member tells the video, its visual tokens, compression and cache hits; with the " +
                "request extension `\"vqtoken\": {\"evidence\": true}` it also holds `evidence` (where the answer looked: frames with " +
                "times and scores, visual tokens, a heat picture's address; docs/EVIDENCE.md), on the finish chunk when streamed.")
            .Accepts<ChatCompletionRequest>("application/json")
            .Produces<ChatCompletionResponse>(StatusCodes.Status200OK)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status502BadGateway)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .ProducesProblem(StatusCodes.Status504GatewayTimeout);

        group.MapGet("/models", ListModels)
            .WithName("ListModels")
            .WithSummary("List the models (OpenAI Models API): the service's one model");

        group.MapGet("/models/{model}", GetModel)
            .WithName("GetModel")
            .WithSummary("Get a model (OpenAI Models API)");
        return group;
    }

    internal static Ok<ModelList> ListModels() => TypedResults.Ok(new ModelList([OpenAiModel.Card]));

    internal static Results<Ok<ModelCard>, ProblemHttpResult> GetModel(string model) =>
        model == OpenAiModel.Id
            ? TypedResults.Ok(OpenAiModel.Card)
            : TypedResults.Problem(Problems.Create(StatusCodes.Status404NotFound, Problems.NotFound, "Model not found", $"no model '{model}'; the service serves '{OpenAiModel.Id}'"));

    // Typed errors before a stream starts reach the error boundary; once streamed chunks were sent, the stream
    // ends with an error chunk instead.
    internal static async Task<Results<Ok<ChatCompletionResponse>, EmptyHttpResult, ProblemHttpResult>> CreateChatCompletion(
        HttpContext context, [AsParameters] OpenAiServices s, CancellationToken cancellationToken)
    {
        var (body, bodyProblem) = await JsonBody.ReadAsync<ChatCompletionRequest>(context.Request, cancellationToken);
        if (body is null) return TypedResults.Problem(bodyProblem!);
        var (call, errors) = ChatCompletionParser.Parse(body, s.Answerer);
        if (call is null) return TypedResults.Problem(Problems.Invalid(ChatCompletionParser.Describe(errors), errors));

        string owner = Caller.Owner(context);
        ChatCompletionStream? stream = null;
        try
        {
            var videoId = call.Video.Id ?? await IngestAsync(call.Video.Url!, owner, s, cancellationToken);
            if (!VideoId.IsValid(videoId)) return TypedResults.Problem(Problems.VideoNotFound(videoId));
            var (video, problem) = await s.Answerer.PrepareAsync(owner, videoId, cancellationToken);
            if (video is null) return TypedResults.Problem(problem!);

            string id = "chatcmpl-" + Guid.NewGuid().ToString("N");
            long created = s.Clock.GetUtcNow().ToUnixTimeSeconds();
            string fingerprint = OpenAiModel.SystemFingerprint(s.Model.Fingerprint);
            if (!call.Stream)
            {
                var answer = await s.Answerer.AnswerAsync(video, call.Messages, call.Parameters, null, cancellationToken);
                return TypedResults.Ok(new ChatCompletionResponse(id, created, call.Model, fingerprint,
                    [new ChatCompletionChoice(0, new ChatCompletionAssistantMessage(answer.Text), answer.FinishReason)],
                    new ChatCompletionUsage(answer.PromptTokens, answer.CompletionTokens), VQTokenDetails.From(video, answer)));
            }
            stream = new ChatCompletionStream(context, id, created, call.Model, fingerprint);
            var streamed = await s.Answerer.AnswerAsync(video, call.Messages, call.Parameters, stream.WriteContentAsync, cancellationToken);
            await stream.FinishAsync(streamed.FinishReason,
                call.IncludeUsage ? new ChatCompletionUsage(streamed.PromptTokens, streamed.CompletionTokens) : null, VQTokenDetails.From(video, streamed));
            return TypedResults.Empty;
        }
        catch (Exception e) when (stream?.Started == true && s.Errors.MapFor(context.Response, e) is { } problem)
        {
            await stream.FailAsync(problem);
            return TypedResults.Empty;
        }
    }

    /// <summary>Fetches a video URL and stores it like <c>POST /videos</c> with a URL (default settings; the
    /// same bytes give the existing video). Returns the video id.</summary>
    private static async Task<string> IngestAsync(Uri url, string owner, OpenAiServices s, CancellationToken cancellationToken)
    {
        var (settings, _) = s.Intake.Validate(new VideoSettingsRequest());
        var fetched = await s.Fetcher.FetchAsync(url, cancellationToken);
        var creation = await s.Intake.AddAsync(fetched, new VideoSource(VideoSourceKind.Url, url.ToString()), settings!, owner, cancellationToken);
        return creation.Video.Id;
    }
}
