using System.Threading.Channels;
using Microsoft.AspNetCore.Http.HttpResults;
using VQToken.Api.ServiceDefaults;
using VQToken.Engine.Output;

namespace VQToken.Api.Search;

/// <summary><c>POST /videos/search</c>: one yes/no question scored over every ready video of the caller, ranked.</summary>
public static class SearchApi
{
    public static RouteHandlerBuilder MapSearchApi(this IEndpointRouteBuilder app) =>
        app.MapPost("/videos/search", SearchVideos)
            .WithTags("Search")
            .WithName("SearchVideos")
            .WithSummary("Ask the whole library: rank your ready videos for a yes/no question")
            .WithDescription("Scores every ready video of the caller (optionally only `ids`, or those created after `createdAfter`; " +
                "at most Search:MaxVideos, the newest, with `truncated` set when more matched) by log p(\"Yes\") − log p(\"No\") at the " +
                "answer's first token after `{question} Answer yes or no.` (docs/SEARCH.md), and returns the `top` best. " +
                "With `Accept: text/event-stream` or `\"stream\": true`: `progress` events (`scored` of `total`), then a `done` event " +
                "with the response (or an `error` event with the problem, such as the Search:DeadlineSeconds deadline).")
            .Accepts<SearchRequestBody>("application/json")
            .Produces<SearchResponse>(StatusCodes.Status200OK)
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .ProducesProblem(StatusCodes.Status504GatewayTimeout);

    // As for asks: typed errors before the stream starts reach the error boundary; after it, an `error` event.
    internal static async Task<Results<Ok<SearchResponse>, EmptyHttpResult, ProblemHttpResult>> SearchVideos(
        HttpContext context, LibrarySearch search, ErrorProblems errors, CancellationToken cancellationToken)
    {
        var (body, bodyProblem) = await JsonBody.ReadAsync<SearchRequestBody>(context.Request, cancellationToken);
        if (body is null) return TypedResults.Problem(bodyProblem!);
        var (query, invalid) = search.Validate(body);
        if (query is null) return TypedResults.Problem(Problems.Invalid("invalid search: " + string.Join(", ", invalid.Keys), invalid));
        var (library, problem) = await search.CollectAsync(Caller.Owner(context), query, cancellationToken);
        if (library is null) return TypedResults.Problem(problem!);
        if (!ServerSentEvents.Wants(context.Request, body.Stream))
            return TypedResults.Ok(await search.RankAsync(library, query, null, cancellationToken));

        var events = await ServerSentEvents.StartAsync(context);
        var progress = Channel.CreateUnbounded<SearchProgress>(new UnboundedChannelOptions { SingleReader = true });
        var writer = WriteProgressAsync(events, progress.Reader, library.Videos.Count, cancellationToken);
        try
        {
            var response = await search.RankAsync(library, query, new ChannelProgress(progress.Writer), cancellationToken);
            progress.Writer.Complete();
            await writer;
            await events.WriteJsonAsync("done", response, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away: the search has left the engine; nobody reads the stream any more.
        }
        catch (Exception e) when (errors.MapFor(context.Response, e) is { } mapped)
        {
            progress.Writer.TryComplete();
            await writer;
            await events.WriteJsonAsync("error", mapped, cancellationToken);
        }
        finally
        {
            progress.Writer.TryComplete();
        }
        return TypedResults.Empty;
    }

    /// <summary>Progress events in order, the first (0 of total) at once so a client sees the size of the search.</summary>
    private static async Task WriteProgressAsync(ServerSentEvents events, ChannelReader<SearchProgress> reader, int total, CancellationToken cancellationToken)
    {
        await events.WriteJsonAsync("progress", new SearchProgressEvent(0, total), cancellationToken);
        await foreach (var p in reader.ReadAllAsync(cancellationToken))
            await events.WriteJsonAsync("progress", new SearchProgressEvent(p.Scored, p.Total), cancellationToken);
    }

    private sealed class ChannelProgress(ChannelWriter<SearchProgress> writer) : IProgress<SearchProgress>
    {
        public void Report(SearchProgress value) => writer.TryWrite(value);
    }
}
