using System.Net;
using System.Net.Sockets;
using VQToken.Ingestion;
using VQToken.Ingestion.Url;

namespace VQToken.Engine.Tests.Video;

/// <summary>End-to-end URL fetching against a local server on 127.0.0.1 only. Downloads need the guard
/// relaxed (AllowPrivateAddresses) because the server is on loopback; the guarded cases prove the same
/// server is refused when the guard is on. The "public" host is a name the injected resolver maps to a
/// documentation address, which the connect hook turns into a loopback connection to the server.</summary>
[Collection(VideoCollection.Name)]
public sealed class UrlFetchLoopbackTests(GeneratedVideos videos) : IAsyncLifetime
{
    private const string PublicAddress = "203.0.113.10";
    private readonly TempVideoStore _store = new(Directory.CreateTempSubdirectory("vqtoken-urlfetch-").FullName);
    private readonly VideoProbe _probe = new(new VideoOptions());
    private LoopbackVideoServer _server = null!;

    public async Task InitializeAsync() => _server = await LoopbackVideoServer.StartAsync(videos.H264Mp4);

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_store.Root, recursive: true);
    }

    private VideoUrlFetcher Relaxed(long maxBytes = 1L << 30) => new(
        new UrlFetchOptions { AllowPrivateAddresses = true, MaxDownloadBytes = maxBytes, RetryDelaySeconds = 0.01 },
        _store, _probe, new MappedResolver(new() { ["localhost"] = ["127.0.0.1"] }));

    /// <summary>Guard on; "media.test" resolves to a public (documentation) address that the hook
    /// connects to the loopback server instead. Any other endpoint fails the test.</summary>
    private VideoUrlFetcher Guarded() => new(
        new UrlFetchOptions { MaxRetries = 0 }, _store, _probe,
        new MappedResolver(new() { ["media.test"] = [PublicAddress], ["internal.test"] = ["10.0.0.1"] }),
        async (endpoint, cancellationToken) =>
        {
            Assert.Equal(IPAddress.Parse(PublicAddress), endpoint.Address);
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, _server.Port), cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        });

    private Uri Media(string path) => new($"http://media.test:{_server.Port}{path}");

    [Fact]
    public async Task Download_streams_to_a_temp_file_with_its_sha256_and_probes_it()
    {
        using var fetcher = Relaxed();

        using (var video = await fetcher.FetchAsync(_server.At("/video.mp4")))
        {
            Assert.Equal(await Sha256FileWriter.HashFileAsync(videos.H264Mp4, CancellationToken.None), video.Sha256);
            Assert.Equal(new FileInfo(videos.H264Mp4).Length, video.SizeBytes);
            Assert.Equal(20, video.Info.FrameCount);
            Assert.StartsWith(_store.Root, video.Path);
            Assert.True(File.Exists(video.Path));
        }
        Assert.Empty(Directory.EnumerateFileSystemEntries(_store.Root));
    }

    [Fact]
    public async Task Guard_on_refuses_the_loopback_server_without_a_request()
    {
        using var fetcher = new VideoUrlFetcher(new UrlFetchOptions { MaxRetries = 0 }, _store, _probe);

        var literal = await Assert.ThrowsAsync<VideoIngestException>(() => fetcher.FetchAsync(_server.At("/video.mp4")));
        var byName = await Assert.ThrowsAsync<VideoIngestException>(() => fetcher.FetchAsync(new Uri($"http://localhost:{_server.Port}/video.mp4")));

        Assert.Equal(VideoErrorKind.UrlRefused, literal.Kind);
        Assert.Equal(VideoErrorKind.UrlRefused, byName.Kind);
        Assert.Equal(0, _server.Requests);
    }

    [Fact]
    public async Task Guarded_fetch_of_an_allowed_host_works()
    {
        using var fetcher = Guarded();

        using var video = await fetcher.FetchAsync(Media("/video.mp4"));

        Assert.Equal(20, video.Info.FrameCount);
    }

    [Theory]
    [InlineData("/redirect-to-loopback-literal")]
    [InlineData("/redirect-to-internal-name")]
    [InlineData("/redirect-to-file")]
    public async Task Redirect_to_a_refused_target_is_refused(string path)
    {
        using var fetcher = Guarded();

        var error = await Assert.ThrowsAsync<VideoIngestException>(() => fetcher.FetchAsync(Media(path)));

        Assert.Equal(VideoErrorKind.UrlRefused, error.Kind);
        Assert.Equal(1, _server.Requests); // the first hop only; the target was never asked
        Assert.Empty(Directory.EnumerateFileSystemEntries(_store.Root));
    }

    [Fact]
    public async Task Relative_redirect_is_followed()
    {
        using var fetcher = Relaxed();

        using var video = await fetcher.FetchAsync(_server.At("/redirect"));

        Assert.Equal(20, video.Info.FrameCount);
        Assert.Equal(2, _server.Requests);
    }

    [Fact]
    public async Task Redirect_loop_stops_after_three_hops()
    {
        using var fetcher = Relaxed();

        var error = await Assert.ThrowsAsync<VideoIngestException>(() => fetcher.FetchAsync(_server.At("/loop")));

        Assert.Equal(VideoErrorKind.UrlRefused, error.Kind);
        Assert.Equal(4, _server.Requests);
    }

    [Fact]
    public async Task Transient_server_error_is_retried()
    {
        using var fetcher = Relaxed();

        using var video = await fetcher.FetchAsync(_server.At("/flaky"));

        Assert.Equal(20, video.Info.FrameCount);
        Assert.Equal(2, _server.Requests);
    }

    [Fact]
    public async Task Missing_video_is_unreachable()
    {
        using var fetcher = Relaxed();

        var error = await Assert.ThrowsAsync<VideoIngestException>(() => fetcher.FetchAsync(_server.At("/missing")));

        Assert.Equal(VideoErrorKind.UrlUnreachable, error.Kind);
        Assert.Contains("404", error.Message);
    }

    [Fact]
    public async Task Closed_port_is_unreachable()
    {
        int closedPort;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            closedPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        using var fetcher = new VideoUrlFetcher(new UrlFetchOptions { AllowPrivateAddresses = true, MaxRetries = 0 }, _store, _probe);

        var error = await Assert.ThrowsAsync<VideoIngestException>(() => fetcher.FetchAsync(new Uri($"http://127.0.0.1:{closedPort}/v.mp4")));

        Assert.Equal(VideoErrorKind.UrlUnreachable, error.Kind);
    }

    [Theory]
    [InlineData("/video.mp4")]   // Content-Length says too big: refused before the body
    [InlineData("/endless")]     // no length: refused while streaming
    public async Task Download_past_the_byte_limit_is_too_large_and_leaves_no_temp_file(string path)
    {
        using var fetcher = Relaxed(maxBytes: 1000);

        var error = await Assert.ThrowsAsync<VideoIngestException>(() => fetcher.FetchAsync(_server.At(path)));

        Assert.Equal(VideoErrorKind.TooLarge, error.Kind);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_store.Root));
    }

    [Fact]
    public async Task Download_that_is_not_a_video_is_refused_whatever_its_content_type()
    {
        using var fetcher = Relaxed();

        var error = await Assert.ThrowsAsync<VideoIngestException>(() => fetcher.FetchAsync(_server.At("/text.mp4")));

        Assert.Equal(VideoErrorKind.NotAVideo, error.Kind);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_store.Root));
    }
}
