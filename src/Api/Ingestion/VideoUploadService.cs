using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using VQToken.Engine.Video;

namespace VQToken.Api.Ingestion;

/// <summary>Receives an uploaded video: multipart/form-data (the first file part) or a raw request body.
/// The bytes stream straight to the temporary store (never whole in memory), are counted against the
/// limit and hashed (SHA-256, the content key) on the way, then sniffed with ffprobe: neither the file name
/// nor the Content-Type is trusted.</summary>
public sealed class VideoUploadService(TempVideoStore store, VideoProbe probe, IOptions<IngestionOptions> options)
{
    /// <summary>Room for multipart boundaries and part headers on top of the file itself.</summary>
    private const long MultipartOverhead = 1024 * 1024;

    /// <summary>The caller owns the result and disposes it (which deletes the file).</summary>
    /// <exception cref="VideoIngestException">TooLarge, MalformedUpload, or a probe error (NotAVideo, ...).</exception>
    public async Task<IngestedVideo> ReceiveAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var max = options.Value.MaxUploadBytes;
        var isMultipart = MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType)
            && mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase);
        var bodyLimit = isMultipart ? max + MultipartOverhead : max;
        if (request.ContentLength > bodyLimit)
            throw new VideoIngestException(VideoErrorKind.TooLarge, $"the upload is {request.ContentLength} bytes; the limit is {max}");
        // The server's own body limit (Kestrel: 30 MB by default) would cut uploads short; ours applies instead.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
            bodySize.MaxRequestBodySize = bodyLimit;

        try
        {
            return isMultipart
                ? await ReceiveMultipartAsync(request, mediaType!, max, cancellationToken)
                : await store.IngestAsync(request.Body, max, probe, cancellationToken);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw new VideoIngestException(VideoErrorKind.TooLarge, $"the upload is larger than the limit of {max} bytes", e);
        }
        catch (InvalidDataException e)
        {
            throw new VideoIngestException(VideoErrorKind.MalformedUpload, "the multipart body is malformed: " + e.Message, e);
        }
    }

    private async Task<IngestedVideo> ReceiveMultipartAsync(HttpRequest request, MediaTypeHeaderValue mediaType, long max, CancellationToken cancellationToken)
    {
        var boundary = HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value;
        if (string.IsNullOrWhiteSpace(boundary) || boundary.Length > 200)
            throw new VideoIngestException(VideoErrorKind.MalformedUpload, "the multipart upload has no usable boundary");
        // No length limit from the reader: the store counts the file part against MaxUploadBytes itself.
        var reader = new MultipartReader(boundary, request.Body) { BodyLengthLimit = null };
        while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
        {
            if (ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                && disposition.IsFileDisposition())
                return await store.IngestAsync(section.Body, max, probe, cancellationToken);
        }
        throw new VideoIngestException(VideoErrorKind.MalformedUpload, "the multipart upload has no file part");
    }
}
