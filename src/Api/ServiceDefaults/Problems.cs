using Microsoft.AspNetCore.Mvc;

namespace VQToken.Api.ServiceDefaults;

/// <summary>The service's RFC 7807 problem types: one stable <c>type</c> URI per kind of error, so
/// clients can branch on it, built here; typed errors become them in <see cref="ErrorProblems"/>.</summary>
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

    /// <summary>A request the server could not read (Kestrel's body limits and timeouts, malformed framing),
    /// with the status the server chose: 413 too large, 408 too slow, 400 otherwise.</summary>
    public static ProblemDetails FromBadRequest(BadHttpRequestException e) => e.StatusCode switch
    {
        StatusCodes.Status413PayloadTooLarge => Create(e.StatusCode, TooLarge, "The request body is too large", e.Message),
        StatusCodes.Status408RequestTimeout => Create(e.StatusCode, Timeout, "The request body arrived too slowly", e.Message),
        >= 400 and < 500 => Create(e.StatusCode, Validation, "The request could not be read", e.Message),
        _ => Create(StatusCodes.Status400BadRequest, Validation, "The request could not be read", e.Message),
    };

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
