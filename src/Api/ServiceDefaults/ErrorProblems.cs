using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace VQToken.Api.ServiceDefaults;

/// <summary>A typed error as a problem, and how long the client should wait before retrying (Retry-After).</summary>
public sealed record MappedProblem(ProblemDetails Problem, TimeSpan? RetryAfter = null);

/// <summary>What features register to say which of their exceptions are which problem (ServiceDefaults knows none).</summary>
public interface IExceptionProblems
{
    /// <summary>The problem for <paramref name="exception"/>, or null when it is not one of the feature's errors.</summary>
    MappedProblem? TryMap(Exception exception);
}

/// <summary>The one mapping from typed errors to problems: the request errors the server raises, then every
/// feature's <see cref="IExceptionProblems"/> in registration order. Used by the error boundary and by
/// streams that have already started (which end with an error event instead).</summary>
public sealed class ErrorProblems(IEnumerable<IExceptionProblems> features)
{
    public MappedProblem? Map(Exception exception) => exception switch
    {
        BadHttpRequestException bad => new(Problems.FromBadRequest(bad)),
        _ => features.Select(f => f.TryMap(exception)).FirstOrDefault(p => p is not null),
    };

    /// <summary>Maps <paramref name="exception"/> and sets Retry-After while the response has not started.</summary>
    public ProblemDetails? MapFor(HttpResponse response, Exception exception)
    {
        if (Map(exception) is not { } mapped) return null;
        if (mapped.RetryAfter is { } after && !response.HasStarted)
            response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(after.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return mapped.Problem;
    }
}

/// <summary>The error boundary: a typed error escaping any route (REST or OpenAI) becomes its RFC 7807 problem
/// with Retry-After where it has one; anything else stays a 500.</summary>
public sealed class ProblemExceptionHandler(ErrorProblems problems, ILogger<ProblemExceptionHandler> log) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (context.Response.HasStarted || problems.MapFor(context.Response, exception) is not { } problem) return false;
        if (problem.Status >= 500)
            log.LogWarning("{Method} {Path}: {Status} {Type} ({Reason})", context.Request.Method, context.Request.Path, problem.Status, problem.Type, exception.Message);
        await Problems.WriteAsync(context, problem);
        return true;
    }
}
