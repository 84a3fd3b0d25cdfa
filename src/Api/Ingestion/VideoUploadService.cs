using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using VQToken.Ingestion;

namespace VQToken.Api.Ingestion;

/// <summary>Receives an uploaded video: multipart/form-data (the first file part) or a raw request body.
/// The bytes stream straight to the temporary store (never whole in memory), are counted against the
/// limit and hashed (SHA-256, the content key) on the way, then sniffed with ffprobe: neither the file name
/// nor the Content-Type is trusted.</summary>
public sealed class VideoUploadService(TempVideoStore store, VideoProbe probe, IOptions<IngestionOptions> options)
{
    /// <summary>Room for multipart boundaries and part headers on top of the file itself.</summary>
    private const long MultipartOverhead = 1024 * 1024;

    /// <summary>Form fields of a multipart upload: at most this many, each at most this long.</summary>
    private const int MaxFields = 32, MaxFieldChars = 4096;

    /// <summary>The caller owns the result and disposes it (which deletes the file).</summary>
    /// <exception cref="VideoIngestException">TooLarge, MalformedUpload, or a probe error (NotAVideo, ...).</exception>
    public async Task<IngestedVideo> ReceiveAsync(HttpRequest request, CancellationToken cancellationToken) =>
        (await ReceiveWithFieldsAsync(request, cancellationToken)).Video;

    /// <summary>As <see cref="ReceiveAsync"/>, plus the multipart form fields (before or after the file
    /// part) and the file name. The caller owns the result and disposes it.</summary>
    public async Task<UploadedVideo> ReceiveWithFieldsAsync(HttpRequest request, CancellationToken cancellationToken)
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
                : new UploadedVideo(await store.IngestAsync(request.Body, max, probe, cancellationToken), new Dictionary<string, string>(), null);
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

    private async Task<UploadedVideo> ReceiveMultipartAsync(HttpRequest request, MediaTypeHeaderValue mediaType, long max, CancellationToken cancellationToken)
    {
        var boundary = HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value;
        if (string.IsNullOrWhiteSpace(boundary) || boundary.Length > 200)
            throw new VideoIngestException(VideoErrorKind.MalformedUpload, "the multipart upload has no usable boundary");
        // No length limit from the reader: the store counts the file part against MaxUploadBytes itself.
        var reader = new MultipartReader(boundary, request.Body) { BodyLengthLimit = null };
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        IngestedVideo? video = null;
        string? fileName = null;
        try
        {
            while (await TruncationAsMalformed.NextSectionAsync(reader, cancellationToken) is { } section)
            {
                var body = new TruncationAsMalformed(section.Body);
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)) continue;
                if (disposition.IsFileDisposition())
                {
                    if (video is not null) throw new VideoIngestException(VideoErrorKind.MalformedUpload, "the multipart upload has more than one file part");
                    fileName = HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value;
                    video = await store.IngestAsync(body, max, probe, cancellationToken);
                }
                else if (disposition.IsFormDisposition())
                {
                    if (fields.Count >= MaxFields) throw new VideoIngestException(VideoErrorKind.MalformedUpload, $"the multipart upload has more than {MaxFields} fields");
                    var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? "";
                    var buffer = new char[MaxFieldChars + 1];
                    using var text = new StreamReader(body);
                    int read = await text.ReadBlockAsync(buffer.AsMemory(), cancellationToken);
                    if (read > MaxFieldChars) throw new VideoIngestException(VideoErrorKind.MalformedUpload, $"form field '{name}' is longer than {MaxFieldChars} characters");
                    fields[name] = new string(buffer, 0, read);
                }
            }
        }
        catch
        {
            video?.Dispose();
            throw;
        }
        if (video is null) throw new VideoIngestException(VideoErrorKind.MalformedUpload, "the multipart upload has no file part");
        return new UploadedVideo(video, fields, fileName);
    }
}

/// <summary>A multipart section's body: the reader's "unexpected end of stream" (a body cut before its closing
/// boundary) and other read failures become a malformed upload (400), while the server's own rejections
/// (413 too large, 408 too slow) pass through with their status. Writes of the store are not wrapped.</summary>
internal sealed class TruncationAsMalformed(Stream inner) : Stream
{
    public static async Task<MultipartSection?> NextSectionAsync(MultipartReader reader, CancellationToken cancellationToken)
    {
        try { return await reader.ReadNextSectionAsync(cancellationToken); }
        catch (IOException e) when (e is not BadHttpRequestException) { throw Malformed(e); }
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Guard(() => inner.Read(buffer, offset, count));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try { return await inner.ReadAsync(buffer, cancellationToken); }
        catch (IOException e) when (e is not BadHttpRequestException) { throw Malformed(e); }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private static int Guard(Func<int> read)
    {
        try { return read(); }
        catch (IOException e) when (e is not BadHttpRequestException) { throw Malformed(e); }
    }

    private static InvalidDataException Malformed(IOException e) => new("the body ended or broke before its closing boundary: " + e.Message, e);
}

/// <summary>An uploaded video with the form fields that came with it. Disposing deletes the file.</summary>
public sealed record UploadedVideo(IngestedVideo Video, IReadOnlyDictionary<string, string> Fields, string? FileName) : IDisposable
{
    public void Dispose() => Video.Dispose();
}
