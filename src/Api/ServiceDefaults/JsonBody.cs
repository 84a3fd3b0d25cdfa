using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace VQToken.Api.ServiceDefaults;

/// <summary>The one reader of JSON request bodies: every way a body can be unusable (content type,
/// charset, size, slowness, malformed JSON) comes back as a problem, never as an exception.</summary>
public static class JsonBody
{
    public static async Task<(T? Body, ProblemDetails? Problem)> ReadAsync<T>(HttpRequest request, CancellationToken cancellationToken) where T : class
    {
        if (!request.HasJsonContentType())
            return (null, Problems.Create(StatusCodes.Status415UnsupportedMediaType, Problems.UnsupportedMedia, "Unsupported content type", "send application/json"));
        if (MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType) && mediaType.Charset.HasValue && !IsKnownEncoding(mediaType.Charset.Value!))
            return (null, Problems.Create(StatusCodes.Status415UnsupportedMediaType, Problems.UnsupportedMedia, "Unsupported charset",
                $"the charset '{mediaType.Charset.Value}' is not supported; send UTF-8 JSON"));

        long limit = request.HttpContext.RequestServices.GetRequiredService<IOptions<HttpServerOptions>>().Value.MaxJsonBodyBytes;
        if (request.ContentLength > limit) return (null, TooLarge(limit));
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize) bodySize.MaxRequestBodySize = limit;
        try
        {
            var body = await request.ReadFromJsonAsync<T>(cancellationToken);
            return body is null ? (null, Problems.Invalid("a JSON body is required")) : (body, null);
        }
        catch (JsonException e)
        {
            return (null, Problems.Invalid("the JSON body is malformed: " + e.Message));
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, TooLarge(limit));
        }
        catch (BadHttpRequestException e)
        {
            return (null, Problems.FromBadRequest(e));
        }
    }

    private static ProblemDetails TooLarge(long limit) =>
        Problems.Create(StatusCodes.Status413PayloadTooLarge, Problems.TooLarge, "The request body is too large",
            $"JSON bodies are limited to {limit} bytes (Http:MaxJsonBodyBytes)");

    private static bool IsKnownEncoding(string charset)
    {
        try
        {
            Encoding.GetEncoding(charset.Trim('"'));
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
