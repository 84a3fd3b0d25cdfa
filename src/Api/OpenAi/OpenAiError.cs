using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Mvc;

namespace VQToken.Api.OpenAi;

/// <summary>OpenAI's error object. The /v1 endpoints answer errors with the service's ProblemDetails
/// (stable <c>type</c>) that also carry this as their <c>error</c> member, so OpenAI clients show the message.</summary>
public sealed record OpenAiError(
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("param")] string? Param,
    [property: JsonPropertyName("code")] string? Code)
{
    public const string Member = "error";
    private const string ProblemTypePrefix = "urn:vqtoken:problem:";

    /// <summary>Adds the <c>error</c> member to <paramref name="problem"/>: message "title: detail", type by status,
    /// param the first field in error, code the problem type's last segment.</summary>
    public static ProblemDetails Attach(ProblemDetails problem)
    {
        var type = problem.Type ?? "";
        problem.Extensions[Member] = new OpenAiError(
            (problem.Title, problem.Detail) switch
            {
                ({ } title, { } detail) => $"{title}: {detail}",
                (var title, var detail) => detail ?? title ?? "error",
            },
            KindOf(problem.Status ?? 500),
            (problem as HttpValidationProblemDetails)?.Errors.Keys.FirstOrDefault(),
            type.StartsWith(ProblemTypePrefix, StringComparison.Ordinal) ? type[ProblemTypePrefix.Length..] : null);
        return problem;
    }

    /// <summary>OpenAI's error types by status.</summary>
    private static string KindOf(int status) => status switch
    {
        StatusCodes.Status401Unauthorized => "authentication_error",
        StatusCodes.Status403Forbidden => "permission_error",
        StatusCodes.Status404NotFound => "not_found_error",
        StatusCodes.Status429TooManyRequests => "rate_limit_error",
        >= 500 => "server_error",
        _ => "invalid_request_error",
    };
}
