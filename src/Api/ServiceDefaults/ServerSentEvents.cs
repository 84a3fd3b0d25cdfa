using System.Text.Json;

namespace VQToken.Api.ServiceDefaults;

/// <summary>Writes a text/event-stream response: no buffering (also through nginx), one event per write.</summary>
public sealed class ServerSentEvents
{
    private readonly HttpResponse _response;

    private ServerSentEvents(HttpResponse response) => _response = response;

    public static async Task<ServerSentEvents> StartAsync(HttpContext context)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpResponseBodyFeature>()?.DisableBuffering();
        await response.Body.FlushAsync(context.RequestAborted);
        return new ServerSentEvents(response);
    }

    /// <summary>Writes one event (<paramref name="name"/> null = the default "message" event) with a JSON payload.</summary>
    public Task WriteJsonAsync<T>(string? name, T payload, CancellationToken cancellationToken) =>
        WriteRawAsync(name, JsonSerializer.Serialize(payload, JsonSerializerOptions.Web), cancellationToken);

    public async Task WriteRawAsync(string? name, string data, CancellationToken cancellationToken)
    {
        var text = (name is null ? "" : $"event: {name}\n") + string.Concat(data.Split('\n').Select(line => $"data: {line}\n")) + "\n";
        await _response.WriteAsync(text, cancellationToken);
        await _response.Body.FlushAsync(cancellationToken);
    }

    public static bool Wants(HttpRequest request, bool? streamFlag) =>
        streamFlag == true || request.Headers.Accept.Any(a => a?.Contains("text/event-stream", StringComparison.OrdinalIgnoreCase) == true);
}
