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
        catch (JsonException e) when (UnmappedMember(e) is { } name)
        {
            return (null, Problems.Invalid($"unknown field '{name}'",
                new Dictionary<string, string[]> { [name] = [$"'{name}' is not a field of this request"] }));
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

    /// <summary>The member System.Text.Json refused on a type that disallows unmapped members, or null.</summary>
    private static string? UnmappedMember(JsonException e)
    {
        const string marker = "The JSON property '";
        int at = e.Message.IndexOf(marker, StringComparison.Ordinal);
        if (at < 0 || !e.Message.Contains("could not be mapped", StringComparison.Ordinal)) return null;
        int start = at + marker.Length, end = e.Message.IndexOf('\'', start);
        return end > start ? e.Message[start..end] : null;
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
