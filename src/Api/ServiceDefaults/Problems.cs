using Microsoft.AspNetCore.Mvc;
using VQToken.Api.Ingestion;
using VQToken.Engine.Runtime;
using VQToken.Engine.Video;

namespace VQToken.Api.ServiceDefaults;

/// <summary>The service's RFC 7807 problem types: one stable <c>type</c> URI per kind of error, so
/// clients can branch on it, and the single place where typed errors become ProblemDetails.</summary>
public static class Problems
{
    public const string Validation = "urn:vqtoken:problem:validation";
    public const string NotFound = "urn:vqtoken:problem:not-found";
    public const string TooLarge = "urn:vqtoken:problem:too-large";
    public const string UnsupportedMedia = "urn:vqtoken:problem:unsupported-media";
    public const string UndecodableVideo = "urn:vqtoken:problem:undecodable-video";
    public const string UrlRefused = "urn:vqtoken:problem:url-refused";
    public const string UrlUnreachable = "urn:vqtoken:problem:url-unreachable";
    public const string Overloaded = "urn:vqtoken:problem:overloaded";
    public const string NotReady = "urn:vqtoken:problem:not-ready";
    public const string VideoFailed = "urn:vqtoken:problem:video-failed";
    public const string NoClusters = "urn:vqtoken:problem:no-clusters";
    public const string Unauthorized = "urn:vqtoken:problem:unauthorized";
    public const string RateLimited = "urn:vqtoken:problem:rate-limited";
    public const string Timeout = "urn:vqtoken:problem:timeout";
    public const string StoreUnavailable = "urn:vqtoken:problem:store-unavailable";
    public const string Internal = "urn:vqtoken:problem:internal";

    public static ProblemDetails Create(int status, string type, string title, string? detail = null) =>
        new() { Status = status, Type = type, Title = title, Detail = detail };

    public static ProblemDetails Invalid(string detail, IDictionary<string, string[]>? errors = null)
    {
        var problem = errors is null ? new ProblemDetails() : new HttpValidationProblemDetails(errors);
        problem.Status = StatusCodes.Status400BadRequest;
        problem.Type = Validation;
        problem.Title = "The request is invalid";
        problem.Detail = detail;
        return problem;
    }

    public static ProblemDetails VideoNotFound(string id) =>
        Create(StatusCodes.Status404NotFound, NotFound, "Video not found", $"no video '{id}'");

    /// <summary>Maps an ingestion error kind to status + type.</summary>
    public static ProblemDetails FromVideoError(VideoIngestException e)
    {
        string type = e.Kind switch
        {
            VideoErrorKind.TooLarge => TooLarge,
            VideoErrorKind.NotAVideo or VideoErrorKind.NoVideoStream => UnsupportedMedia,
            VideoErrorKind.Undecodable or VideoErrorKind.TooLong or VideoErrorKind.ResolutionTooHigh => UndecodableVideo,
            VideoErrorKind.UrlRefused => UrlRefused,
            VideoErrorKind.UrlUnreachable => UrlUnreachable,
            VideoErrorKind.Timeout => Timeout,
            VideoErrorKind.ToolUnavailable => NotReady,
            _ => Validation,
        };
        return Create(VideoErrorStatus.For(e.Kind), type, Title(e.Kind), e.Message);
    }

    private static string Title(VideoErrorKind kind) => kind switch
    {
        VideoErrorKind.TooLarge => "The video is too large",
        VideoErrorKind.NotAVideo => "The content is not a video",
        VideoErrorKind.NoVideoStream => "The file has no video stream",
        VideoErrorKind.Undecodable => "The video cannot be decoded",
        VideoErrorKind.TooLong => "The video is too long",
        VideoErrorKind.ResolutionTooHigh => "The video resolution is too high",
        VideoErrorKind.UrlRefused => "The URL is not allowed",
        VideoErrorKind.UrlUnreachable => "The URL could not be fetched",
        VideoErrorKind.Timeout => "Processing the video timed out",
        VideoErrorKind.ToolUnavailable => "Video tools are unavailable",
        _ => "The video request is invalid",
    };

    public static ProblemDetails Overload(EngineOverloadedException e) =>
        Create(StatusCodes.Status429TooManyRequests, Overloaded, "The service is overloaded", e.Message);

    /// <summary>A request the server could not read (Kestrel's body limits and timeouts, malformed framing),
    /// with the status the server chose: 413 too large, 408 too slow, 400 otherwise.</summary>
    public static ProblemDetails FromBadRequest(BadHttpRequestException e) => e.StatusCode switch
    {
        StatusCodes.Status413PayloadTooLarge => Create(e.StatusCode, TooLarge, "The request body is too large", e.Message),
        StatusCodes.Status408RequestTimeout => Create(e.StatusCode, Timeout, "The request body arrived too slowly", e.Message),
        >= 400 and < 500 => Create(e.StatusCode, Validation, "The request could not be read", e.Message),
        _ => Create(StatusCodes.Status400BadRequest, Validation, "The request could not be read", e.Message),
    };

    /// <summary>The problem for an error an answer can meet (fetching its video, the engine, the deadline);
    /// null for anything else (a 500). Sets Retry-After on an overload while the response has not started.</summary>
    public static ProblemDetails? FromAnswerError(Exception e, HttpResponse response)
    {
        switch (e)
        {
            case VideoIngestException ingest:
                return FromVideoError(ingest);
            case EngineOverloadedException overload:
                if (!response.HasStarted)
                    response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(overload.RetryAfter.TotalSeconds)).ToString();
                return Overload(overload);
            case EngineUnavailableException unavailable:
                return Unavailable(unavailable.Message);
            case var store when Storage.StoreFaults.IsUnavailable(store):   // before TimeoutException: a Redis timeout is the store's (503)
                if (!response.HasStarted)
                    response.Headers.RetryAfter = Storage.StoreFaults.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return StoreOutage();
            case TimeoutException timeout:
                return Create(StatusCodes.Status504GatewayTimeout, Timeout, "The answer took too long", timeout.Message);
            default:
                return null;
        }
    }

    public static ProblemDetails Unavailable(string detail) =>
        Create(StatusCodes.Status503ServiceUnavailable, NotReady, "The model is not ready", detail);

    /// <summary>The shared store (Redis) is unreachable; sent with Retry-After.</summary>
    public static ProblemDetails StoreOutage() =>
        Create(StatusCodes.Status503ServiceUnavailable, StoreUnavailable, "The video store is unavailable",
            "the shared store (Redis) cannot be reached; retry shortly");

    /// <summary>Writes a problem as the response (for middleware and streaming paths).</summary>
    public static async Task WriteAsync(HttpContext context, ProblemDetails problem)
    {
        context.Response.StatusCode = problem.Status ?? 500;
        await Results.Problem(problem).ExecuteAsync(context);
    }
}
