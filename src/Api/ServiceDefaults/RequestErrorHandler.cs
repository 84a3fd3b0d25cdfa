using Microsoft.AspNetCore.Diagnostics;

namespace VQToken.Api.ServiceDefaults;

/// <summary>Turns errors of reading the request that escape a route (Kestrel's body size limit and minimum
/// data rate, malformed framing) into problems with the status the server chose instead of a 500.</summary>
public sealed class RequestErrorHandler : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException badRequest) return false;
        await Problems.WriteAsync(context, Problems.FromBadRequest(badRequest));
        return true;
    }
}
