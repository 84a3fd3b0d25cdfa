using System.Net;
using System.Net.Http;
using Microsoft.Extensions.Http.Resilience;
using Polly;

namespace VQToken.Ingestion.Url;

/// <summary>Downloads a video from an http(s) URL into the temporary store, safely: the guarded connector
/// checks and pins every connection's address; redirects are followed by hand (each hop re-checked:
/// scheme, host allow-list, address); the byte limit holds while streaming (SHA-256 on the way); transient
/// failures before the body are retried (Microsoft.Extensions.Http.Resilience); connect and total timeouts.
/// Lives in the Engine, not the Api, so the CLI's `frames &lt;url&gt;` takes the very same path.</summary>
public sealed class VideoUrlFetcher : IDisposable
{
    private readonly UrlFetchOptions _options;
    private readonly TempVideoStore _store;
    private readonly VideoProbe _probe;
    private readonly HttpClient _client;

    /// <param name="resolver">DNS; the system resolver when null.</param>
    /// <param name="connect">Opens the TCP connection to an already checked address; a socket when null.
    /// Tests inject a hook here so that nothing but loopback is ever dialled.</param>
    public VideoUrlFetcher(UrlFetchOptions options, TempVideoStore store, VideoProbe probe,
        IHostResolver? resolver = null, Func<IPEndPoint, CancellationToken, ValueTask<Stream>>? connect = null)
    {
        _options = options;
        _store = store;
        _probe = probe;
        var connector = new GuardedConnector(options.AllowPrivateAddresses, resolver ?? new DnsHostResolver(), connect);
        var sockets = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,               // every hop goes through CheckUrl
            UseProxy = false,                        // a proxy would connect on our behalf, unguarded
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(options.ConnectTimeoutSeconds),
            ConnectCallback = connector.ConnectAsync,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        };
        var retry = new ResiliencePipelineBuilder<HttpResponseMessage>()
            .AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = Math.Max(1, options.MaxRetries),
                Delay = TimeSpan.FromSeconds(options.RetryDelaySeconds),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldHandle = args => ValueTask.FromResult(
                    options.MaxRetries > 0 && FindGuardError(args.Outcome.Exception) is null
                    && HttpClientResiliencePredicates.IsTransient(args.Outcome)),
            })
            .Build();
        _client = new HttpClient(new ResilienceHandler(retry) { InnerHandler = sockets })
        {
            Timeout = Timeout.InfiniteTimeSpan, // the total timeout below covers the body too
        };
    }

    /// <summary>Downloads and probes <paramref name="url"/>. The caller owns (and disposes) the result.</summary>
    /// <exception cref="VideoIngestException">UrlRefused, UrlUnreachable, TooLarge, or a probe error.</exception>
    public async Task<IngestedVideo> FetchAsync(Uri url, CancellationToken cancellationToken = default)
    {
        using var total = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        total.CancelAfter(TimeSpan.FromSeconds(_options.TotalTimeoutSeconds));
        try
        {
            using var response = await GetFollowingRedirectsAsync(url, total.Token);
            if (response.Content.Headers.ContentLength > _options.MaxDownloadBytes)
                throw new VideoIngestException(VideoErrorKind.TooLarge,
                    $"the video is {response.Content.Headers.ContentLength} bytes; the limit is {_options.MaxDownloadBytes}");
            await using var body = await response.Content.ReadAsStreamAsync(total.Token);
            return await _store.IngestAsync(body, _options.MaxDownloadBytes, _probe, total.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new VideoIngestException(VideoErrorKind.UrlUnreachable,
                $"the download timed out (connect limit {_options.ConnectTimeoutSeconds} s, total limit {_options.TotalTimeoutSeconds} s)");
        }
        catch (HttpRequestException e)
        {
            throw FindGuardError(e) ?? new VideoIngestException(VideoErrorKind.UrlUnreachable, "the URL could not be fetched: " + e.Message, e);
        }
        catch (IOException e)
        {
            throw FindGuardError(e) ?? new VideoIngestException(VideoErrorKind.UrlUnreachable, "the download broke off: " + e.Message, e);
        }
    }

    private async Task<HttpResponseMessage> GetFollowingRedirectsAsync(Uri url, CancellationToken cancellationToken)
    {
        var current = url;
        for (int redirects = 0; ; redirects++)
        {
            CheckUrl(current);
            using var request = new HttpRequestMessage(HttpMethod.Get, current);
            var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (!IsRedirect(response.StatusCode))
            {
                if (response.IsSuccessStatusCode) return response;
                response.Dispose();
                throw new VideoIngestException(VideoErrorKind.UrlUnreachable, $"the server answered {(int)response.StatusCode} {response.ReasonPhrase}");
            }
            var location = response.Headers.Location;
            response.Dispose();
            if (location is null)
                throw new VideoIngestException(VideoErrorKind.UrlUnreachable, "a redirect without a Location header");
            if (redirects >= _options.MaxRedirects)
                throw new VideoIngestException(VideoErrorKind.UrlRefused, $"more than {_options.MaxRedirects} redirects");
            current = location.IsAbsoluteUri ? location : new Uri(current, location);
        }
    }

    /// <summary>Scheme, allow-list and (for address literals) the address guard, before any connection.</summary>
    public void CheckUrl(Uri url)
    {
        if (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
            throw new VideoIngestException(VideoErrorKind.UrlRefused, $"only http and https URLs may be fetched, not '{(url.IsAbsoluteUri ? url.Scheme : url.OriginalString)}'");
        var host = url.IdnHost;
        if (_options.AllowedHosts.Count > 0 && !_options.AllowedHosts.Any(h => IsSameOrSubdomain(host, h)))
            throw new VideoIngestException(VideoErrorKind.UrlRefused, $"the host {host} is not on the allow-list");
        if (IPAddress.TryParse(host.Trim('[', ']'), out var literal))
            GuardedConnector.Check(host, literal, _options.AllowPrivateAddresses);
    }

    private static bool IsSameOrSubdomain(string host, string allowed)
    {
        allowed = allowed.Trim().TrimStart('.');
        return host.Equals(allowed, StringComparison.OrdinalIgnoreCase)
            || host.EndsWith("." + allowed, StringComparison.OrdinalIgnoreCase);
    }

    private static bool IsRedirect(HttpStatusCode status) => status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found
        or HttpStatusCode.SeeOther or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;

    private static VideoIngestException? FindGuardError(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
            if (e is VideoIngestException v) return v;
        return null;
    }

    public void Dispose() => _client.Dispose();
}
