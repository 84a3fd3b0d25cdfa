using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;

namespace VQToken.Engine.Checkpoints.Acquisition;

/// <summary>Downloads a checkpoint from a Hugging Face hub (or anything serving its URL layout):
/// lists the repository (<c>GET {endpoint}/api/models/{repo}/revision/{revision}</c>, else probes the
/// known file names), asks each file's metadata (<c>HEAD {endpoint}/{repo}/resolve/{revision}/{file}</c>:
/// size from <c>X-Linked-Size</c>/Content-Length, SHA-256 from <c>X-Linked-ETag</c>/ETag when it is one),
/// and downloads into <c>{file}.partial</c>, resuming with HTTP Range after a broken transfer. A file is
/// moved to its name only once its size and SHA-256 check out. Redirects are followed by hand so the
/// token goes to the endpoint's origin only.</summary>
public sealed class HubDownloader : IDisposable
{
    private const int BufferSize = 128 * 1024;

    /// <summary>Tokenizer and generation files next to the weights; absent ones are skipped.</summary>
    internal static readonly string[] TokenizerFiles =
        ["tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt", "added_tokens.json", "special_tokens_map.json", "generation_config.json"];

    private readonly ModelOptions _options;
    private readonly HubDownloadSettings _settings;
    private readonly Uri _endpoint;
    private readonly HttpClient _http;

    /// <param name="handler">The HTTP handler; a <see cref="SocketsHttpHandler"/> when null. Tests pass one
    /// that dials loopback only.</param>
    public HubDownloader(ModelOptions options, HubDownloadSettings? settings = null, HttpMessageHandler? handler = null)
    {
        _options = options;
        _settings = settings ?? new HubDownloadSettings();
        if (!Uri.TryCreate(options.Endpoint.TrimEnd('/') + "/", UriKind.Absolute, out var endpoint))
            throw new ModelAcquisitionException(ModelAcquisitionError.InvalidOptions, $"Model:Endpoint '{options.Endpoint}' is not an absolute URL");
        _endpoint = endpoint;
        handler ??= new SocketsHttpHandler
        {
            AllowAutoRedirect = false, // by hand: the token must not follow a redirect to another host
            AutomaticDecompression = DecompressionMethods.None, // sizes and hashes are of the bytes as stored
            ConnectTimeout = TimeSpan.FromSeconds(30),
        };
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan }; // the stall timeout covers bodies
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("vqtoken-service/1.0");
    }

    public Uri ResolveUri(string file) =>
        new(_endpoint, $"{_options.Repo}/resolve/{Uri.EscapeDataString(_options.Revision)}/{Uri.EscapeDataString(file)}");

    /// <summary>The checkpoint's files with their metadata: config.json, the safetensors weights (all
    /// shards of the index), the tokenizer files that exist.</summary>
    public async Task<IReadOnlyList<HubFile>> ListCheckpointFilesAsync(CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await ListOnceAsync(cancellationToken);
            }
            catch (Exception e) when (IsTransient(e, cancellationToken))
            {
                if (attempt >= _settings.MaxAttempts)
                    throw e as ModelAcquisitionException ?? new ModelAcquisitionException(ModelAcquisitionError.Network,
                        $"{Describe()}: listing the checkpoint's files failed {attempt} times ({e.Message})", e);
            }
            await Task.Delay(_settings.RetryDelay * (1 << Math.Min(attempt - 1, 6)), cancellationToken);
        }
    }

    private async Task<IReadOnlyList<HubFile>> ListOnceAsync(CancellationToken cancellationToken)
    {
        var listed = await ListRepositoryAsync(cancellationToken);
        var names = listed is null ? await ProbeNamesAsync(cancellationToken) : SelectCheckpointFiles(listed);
        var files = new List<HubFile>();
        foreach (var name in names)
            files.Add(await HeadAsync(name, cancellationToken)
                ?? throw new ModelAcquisitionException(ModelAcquisitionError.NotFound, $"{Describe()}: '{name}' was not found (404); check Model:Repo and Model:Revision"));
        return files;
    }

    /// <summary>The repository's file names from the hub API, or null when the API is not there (404/405/501).</summary>
    private async Task<IReadOnlyList<string>?> ListRepositoryAsync(CancellationToken cancellationToken)
    {
        var uri = new Uri(_endpoint, $"api/models/{_options.Repo}/revision/{Uri.EscapeDataString(_options.Revision)}");
        using var response = await SendAsync(HttpMethod.Get, uri, 0, cancellationToken);
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed or HttpStatusCode.NotImplemented) return null;
        ThrowForStatus(response, "the repository listing");
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var json = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken);
        if (!json.RootElement.TryGetProperty("siblings", out var siblings) || siblings.ValueKind != JsonValueKind.Array) return null;
        return siblings.EnumerateArray()
            .Select(s => s.TryGetProperty("rfilename", out var n) ? n.GetString() : null)
            .OfType<string>()
            .ToList();
    }

    /// <summary>What the service needs from a listing: root-level config.json, safetensors weights (the
    /// index and its shards, or every root *.safetensors), tokenizer files.</summary>
    internal static IReadOnlyList<string> SelectCheckpointFiles(IReadOnlyList<string> listed)
    {
        var root = listed.Where(n => !n.Contains('/') && !n.Contains('\\')).ToHashSet(StringComparer.Ordinal);
        var names = new List<string>();
        if (root.Contains(LlavaConfig.FileName)) names.Add(LlavaConfig.FileName);
        if (root.Contains(CheckpointReader.IndexFileName)) names.Add(CheckpointReader.IndexFileName);
        names.AddRange(root.Where(n => n.EndsWith(".safetensors", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        names.AddRange(TokenizerFiles.Where(root.Contains));
        return names;
    }

    /// <summary>Without a listing: config.json, then the index and its shards or model.safetensors, then
    /// whichever tokenizer files answer.</summary>
    private async Task<IReadOnlyList<string>> ProbeNamesAsync(CancellationToken cancellationToken)
    {
        var names = new List<string> { LlavaConfig.FileName };
        var index = await HeadAsync(CheckpointReader.IndexFileName, cancellationToken);
        if (index is not null)
        {
            names.Add(CheckpointReader.IndexFileName);
            names.AddRange(await ReadShardNamesAsync(index, cancellationToken));
        }
        else names.Add("model.safetensors");
        foreach (var name in TokenizerFiles)
            if (await HeadAsync(name, cancellationToken) is not null) names.Add(name);
        return names;
    }

    private async Task<IEnumerable<string>> ReadShardNamesAsync(HubFile index, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Get, index.DownloadUri, 0, cancellationToken);
        ThrowForStatus(response, CheckpointReader.IndexFileName);
        using var json = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(cancellationToken));
        if (!json.RootElement.TryGetProperty("weight_map", out var map))
            throw new ModelAcquisitionException(ModelAcquisitionError.NotACheckpoint, $"{Describe()}: {CheckpointReader.IndexFileName} has no weight_map");
        return map.EnumerateObject().Select(e => e.Value.GetString() ?? "").Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>The file's metadata, or null when the hub answers 404. Same-origin redirects (renamed
    /// repositories) are followed; a redirect elsewhere (the LFS CDN) becomes the download URI, and the
    /// hub's <c>X-Linked-Size</c>/<c>X-Linked-ETag</c> on it give the size and the SHA-256.</summary>
    public async Task<HubFile?> HeadAsync(string name, CancellationToken cancellationToken)
    {
        CheckFileName(name);
        var uri = ResolveUri(name);
        long? linkedSize = null;
        string? linkedEtag = null;
        for (int hop = 0; ; hop++)
        {
            using var request = NewRequest(HttpMethod.Head, uri, 0);
            using var response = await SendOnceAsync(request, cancellationToken);
            linkedSize ??= LongHeader(response, "X-Linked-Size");
            linkedEtag ??= Header(response, "X-Linked-ETag");
            if (IsRedirect(response.StatusCode) && response.Headers.Location is { } location)
            {
                var next = location.IsAbsoluteUri ? location : new Uri(uri, location);
                if (!SameOrigin(next, _endpoint) || hop >= _settings.MaxRedirects)
                    return new HubFile(name, next, linkedSize, Sha256Of(linkedEtag));
                uri = next;
                continue;
            }
            if (response.StatusCode == HttpStatusCode.NotFound) return null;
            ThrowForStatus(response, name);
            var etag = linkedEtag ?? response.Headers.ETag?.Tag ?? Header(response, "ETag");
            return new HubFile(name, uri, linkedSize ?? response.Content.Headers.ContentLength, Sha256Of(etag));
        }
    }

    /// <summary>Downloads <paramref name="file"/> to <paramref name="path"/> (via <c>path.partial</c>):
    /// resumes a partial file with Range, retries broken transfers, re-downloads a file that fails its
    /// size or SHA-256 check; never leaves a file at <paramref name="path"/> that failed a check.</summary>
    /// <param name="progress">Called with the file's bytes on disk after every chunk.</param>
    public async Task DownloadAsync(HubFile file, string path, Action<long, long?>? progress, CancellationToken cancellationToken)
    {
        var partial = path + ".partial";
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                long expected = await TransferAsync(file, partial, progress, cancellationToken);
                await VerifyAsync(file, partial, expected, cancellationToken);
                File.Move(partial, path, overwrite: true);
                return;
            }
            catch (ModelAcquisitionException e) when (e.Error is ModelAcquisitionError.ChecksumMismatch or ModelAcquisitionError.SizeMismatch)
            {
                File.Delete(partial); // corrupt bytes are never resumed from nor used
                progress?.Invoke(0, file.Size);
                if (attempt >= _settings.MaxAttempts) throw;
            }
            catch (Exception e) when (IsTransient(e, cancellationToken))
            {
                if (attempt >= _settings.MaxAttempts)
                    throw new ModelAcquisitionException(ModelAcquisitionError.Network,
                        $"{Describe()}: downloading '{file.Name}' failed {attempt} times ({e.Message}); the partial file is kept and the next start resumes it", e);
            }
            await Task.Delay(_settings.RetryDelay * (1 << Math.Min(attempt - 1, 6)), cancellationToken);
        }
    }

    /// <summary>One GET of the missing bytes, appended to <paramref name="partial"/>; returns the full size.</summary>
    private async Task<long> TransferAsync(HubFile file, string partial, Action<long, long?>? progress, CancellationToken cancellationToken)
    {
        long have = File.Exists(partial) ? new FileInfo(partial).Length : 0;
        if (file.Size is { } announced && have > announced)
        {
            File.Delete(partial);
            have = 0;
        }
        if (file.Size is { } size && have == size && have > 0) return size; // complete already: only verify

        using var response = await SendAsync(HttpMethod.Get, file.DownloadUri, have, cancellationToken);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            File.Delete(partial);
            throw new IOException($"the server refused to resume '{file.Name}' at byte {have}; starting over");
        }
        ThrowForStatus(response, file.Name);
        long? total;
        if (response.StatusCode == HttpStatusCode.PartialContent)
        {
            var range = response.Content.Headers.ContentRange;
            if (range?.From != have)
            {
                File.Delete(partial);
                throw new IOException($"the server resumed '{file.Name}' at byte {range?.From} instead of {have}; starting over");
            }
            total = range.Length;
        }
        else
        {
            have = 0; // the server ignored the Range: the body is the whole file
            total = response.Content.Headers.ContentLength;
        }
        if (file.Size is { } expectedSize && total is { } served && served != expectedSize)
            throw new ModelAcquisitionException(ModelAcquisitionError.SizeMismatch,
                $"{Describe()}: '{file.Name}' is announced as {expectedSize} bytes but served as {served}");
        total ??= file.Size;
        progress?.Invoke(have, total);

        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        await using var output = new FileStream(partial, have > 0 ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            while (true)
            {
                stall.CancelAfter(_settings.StallTimeout);
                int read = await body.ReadAsync(buffer.AsMemory(0, BufferSize), stall.Token);
                if (read == 0) break;
                await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                have += read;
                progress?.Invoke(have, total);
            }
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"no byte of '{file.Name}' for {_settings.StallTimeout.TotalSeconds:0} s", e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        if (total is { } t && have < t) throw new IOException($"the transfer of '{file.Name}' ended at byte {have} of {t}");
        return total ?? have;
    }

    private async Task VerifyAsync(HubFile file, string partial, long expected, CancellationToken cancellationToken)
    {
        long length = new FileInfo(partial).Length;
        if (length != expected)
            throw new ModelAcquisitionException(ModelAcquisitionError.SizeMismatch, $"{Describe()}: '{file.Name}' has {length} bytes, expected {expected}");
        if (file.Sha256 is null) return;
        await using var stream = new FileStream(partial, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan);
        var actual = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
        if (!actual.Equals(file.Sha256, StringComparison.OrdinalIgnoreCase))
            throw new ModelAcquisitionException(ModelAcquisitionError.ChecksumMismatch,
                $"{Describe()}: '{file.Name}' has SHA-256 {actual}, the hub says {file.Sha256}; the file was rejected");
    }

    /// <summary>Sends, following redirects by hand (the token only to the endpoint's origin).</summary>
    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, Uri uri, long rangeFrom, CancellationToken cancellationToken)
    {
        for (int hop = 0; ; hop++)
        {
            using var request = NewRequest(method, uri, rangeFrom);
            var response = await SendOnceAsync(request, cancellationToken);
            if (!IsRedirect(response.StatusCode) || response.Headers.Location is not { } location) return response;
            response.Dispose();
            if (hop >= _settings.MaxRedirects)
                throw new ModelAcquisitionException(ModelAcquisitionError.Network, $"{Describe()}: more than {_settings.MaxRedirects} redirects from {uri}");
            uri = location.IsAbsoluteUri ? location : new Uri(uri, location);
        }
    }

    private async Task<HttpResponseMessage> SendOnceAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new ModelAcquisitionException(ModelAcquisitionError.Network,
                $"{Describe()}: {request.RequestUri?.GetLeftPart(UriPartial.Authority)} could not be reached ({e.Message}); set Model:Offline=true to use the cache only", e);
        }
    }

    private HttpRequestMessage NewRequest(HttpMethod method, Uri uri, long rangeFrom)
    {
        var request = new HttpRequestMessage(method, uri);
        if (_options.Token.Length > 0 && SameOrigin(uri, _endpoint))
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _options.Token);
        if (rangeFrom > 0) request.Headers.Range = new RangeHeaderValue(rangeFrom, null);
        return request;
    }

    private void ThrowForStatus(HttpResponseMessage response, string what)
    {
        if (response.IsSuccessStatusCode) return;
        var status = (int)response.StatusCode;
        throw response.StatusCode switch
        {
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => new ModelAcquisitionException(ModelAcquisitionError.Unauthorized,
                $"{Describe()}: the hub refused {what} ({status}); a gated or private repository needs an access token in HF_TOKEN"
                + (_options.Token.Length > 0 ? " (one was sent: check that it has access)" : "")),
            HttpStatusCode.NotFound => new ModelAcquisitionException(ModelAcquisitionError.NotFound,
                $"{Describe()}: {what} was not found (404); check Model:Repo and Model:Revision"),
            _ when status >= 500 || response.StatusCode == HttpStatusCode.TooManyRequests => new HttpRequestException(
                $"{what}: the hub answered {status} {response.ReasonPhrase}", null, response.StatusCode),
            _ => new ModelAcquisitionException(ModelAcquisitionError.Network, $"{Describe()}: {what}: the hub answered {status} {response.ReasonPhrase}"),
        };
    }

    private static bool IsTransient(Exception e, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested
        && e is HttpRequestException or IOException or TimeoutException
            or ModelAcquisitionException { Error: ModelAcquisitionError.Network };

    /// <summary>File names come from the server: plain names at the repository root only.</summary>
    private static void CheckFileName(string name)
    {
        if (name.Length == 0 || name.Contains('/') || name.Contains('\\') || name is "." or ".." || name.StartsWith('.'))
            throw new ModelAcquisitionException(ModelAcquisitionError.NotACheckpoint, $"refusing the file name '{name}': only plain names at the repository root are downloaded");
    }

    /// <summary>LFS ETags are the file's SHA-256 (64 hex digits); git ETags (SHA-1 of the blob) are not used.</summary>
    private static string? Sha256Of(string? etag)
    {
        if (etag is null) return null;
        var tag = etag.Trim();
        if (tag.StartsWith("W/", StringComparison.Ordinal)) return null;
        tag = tag.Trim('"');
        return tag.Length == 64 && tag.All(char.IsAsciiHexDigit) ? tag.ToLowerInvariant() : null;
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault()
        : response.Content.Headers.TryGetValues(name, out var contentValues) ? contentValues.FirstOrDefault() : null;

    private static long? LongHeader(HttpResponseMessage response, string name) =>
        long.TryParse(Header(response, name), out var value) ? value : null;

    private static bool SameOrigin(Uri a, Uri b) =>
        a.Scheme == b.Scheme && string.Equals(a.IdnHost, b.IdnHost, StringComparison.OrdinalIgnoreCase) && a.Port == b.Port;

    private static bool IsRedirect(HttpStatusCode status) => status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found
        or HttpStatusCode.SeeOther or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;

    private string Describe() => $"{_options.Repo}@{_options.Revision}";

    public void Dispose() => _http.Dispose();
}
