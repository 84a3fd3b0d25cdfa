using Microsoft.AspNetCore.Diagnostics;
using VQToken.Api.Storage;

namespace VQToken.Api.ServiceDefaults;

/// <summary>Every route's answer while the shared store (Redis) is unreachable: 503 with Retry-After,
/// not a 500, so clients and load balancers retry instead of giving up.</summary>
public sealed class StoreUnavailableExceptionHandler(ILogger<StoreUnavailableExceptionHandler> log) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (!StoreFaults.IsUnavailable(exception) || context.Response.HasStarted) return false;
        log.LogWarning("{Method} {Path}: the store is unavailable ({Reason})", context.Request.Method, context.Request.Path, exception.Message);
        context.Response.Headers.RetryAfter = StoreFaults.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await Problems.WriteAsync(context, Problems.StoreOutage());
        return true;
    }
}
