using System.Net;
using VQToken.Ingestion;
using VQToken.Ingestion.Url;

namespace VQToken.Engine.Tests.Video;

/// <summary>The URL fetcher's refusals with an injected resolver and a connect hook that fails the test:
/// every case must be refused before any connection is attempted.</summary>
public sealed class UrlGuardTests : IDisposable
{
    private readonly TempVideoStore _store = new(Directory.CreateTempSubdirectory("vqtoken-urlguard-").FullName);
    private readonly List<IPEndPoint> _dialled = [];
    private readonly MappedResolver _resolver = new(new()
    {
        ["localhost"] = ["127.0.0.1", "::1"],
        ["internal.test"] = ["10.0.0.1"],
        ["corp.test"] = ["172.16.5.4"],
        ["home.test"] = ["192.168.0.1"],
        ["metadata.test"] = ["169.254.169.254"],
        ["mapped.test"] = ["::ffff:127.0.0.1"],
        ["mapped-private.test"] = ["::ffff:10.0.0.1"],
        ["v6-metadata.test"] = ["fd00:ec2::254"],
        // One public and one private answer (a rebinding trick): refused as a whole.
        ["mixed.test"] = ["203.0.113.7", "10.0.0.1"],
    });

    private ValueTask<Stream> FailingConnect(IPEndPoint endpoint, CancellationToken _)
    {
        lock (_dialled) _dialled.Add(endpoint);
        Assert.Fail($"the fetcher tried to connect to {endpoint}");
        throw new InvalidOperationException("unreachable");
    }

    private VideoUrlFetcher Fetcher(UrlFetchOptions? options = null) =>
        new(options ?? new UrlFetchOptions { MaxRetries = 0 }, _store, new VideoProbe(new VideoOptions()), _resolver, FailingConnect);

    [Theory]
    [InlineData("http://127.0.0.1/video.mp4")]
    [InlineData("http://127.0.0.1:8080/video.mp4")]
    [InlineData("http://10.0.0.1/video.mp4")]
    [InlineData("http://172.16.0.1/video.mp4")]
    [InlineData("http://172.31.255.1/video.mp4")]
    [InlineData("http://192.168.1.20/video.mp4")]
    [InlineData("http://100.64.1.1/video.mp4")]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("http://[::1]/video.mp4")]
    [InlineData("http://[::ffff:127.0.0.1]/video.mp4")]
    [InlineData("http://[::ffff:10.0.0.1]/video.mp4")]
    [InlineData("http://[fe80::1]/video.mp4")]
    [InlineData("http://[fd00:ec2::254]/latest/meta-data/")]
    [InlineData("http://0.0.0.0/video.mp4")]
    [InlineData("http://localhost/video.mp4")]
    [InlineData("http://internal.test/video.mp4")]
    [InlineData("https://corp.test/video.mp4")]
    [InlineData("http://home.test/video.mp4")]
    [InlineData("http://metadata.test/latest/meta-data/")]
    [InlineData("http://mapped.test/video.mp4")]
    [InlineData("http://mapped-private.test/video.mp4")]
    [InlineData("http://v6-metadata.test/video.mp4")]
    [InlineData("http://mixed.test/video.mp4")]
    [InlineData("file:///etc/passwd")]
    [InlineData("ftp://files.test/video.mp4")]
    [InlineData("gopher://files.test/")]
    public async Task Url_to_a_refused_address_or_scheme_is_refused_without_connecting(string url)
    {
        using var fetcher = Fetcher();

        var error = await Assert.ThrowsAsync<VideoIngestException>(() => fetcher.FetchAsync(new Uri(url)));

        Assert.Equal(VideoErrorKind.UrlRefused, error.Kind);
        Assert.Empty(_dialled);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_store.Root));
    }

    [Fact]
    public async Task Connect_callback_checks_every_resolved_address_before_dialling()
    {
        var connector = new GuardedConnector(allowPrivateAddresses: false, _resolver, FailingConnect);

        var error = await Assert.ThrowsAsync<VideoIngestException>(async () => await connector.ConnectAsync("internal.test", 80, CancellationToken.None));

        Assert.Equal(VideoErrorKind.UrlRefused, error.Kind);
        Assert.Contains("10.0.0.1", error.Message);
        Assert.Equal(["internal.test"], _resolver.Asked);
        Assert.Empty(_dialled);
    }

    [Fact]
    public async Task Connect_callback_dials_exactly_the_address_it_checked()
    {
        var dialled = new List<IPEndPoint>();
        var connector = new GuardedConnector(allowPrivateAddresses: false,
            new MappedResolver(new() { ["public.test"] = ["203.0.113.7"] }),
            (endpoint, _) =>
            {
                dialled.Add(endpoint);
                return ValueTask.FromResult<Stream>(new MemoryStream()); // stands in for the socket; nothing is dialled
            });

        await using var stream = await connector.ConnectAsync("public.test", 443, CancellationToken.None);

        Assert.Equal([new IPEndPoint(IPAddress.Parse("203.0.113.7"), 443)], dialled);
    }

    [Fact]
    public async Task Unknown_host_is_unreachable_not_refused()
    {
        using var fetcher = Fetcher();

        var error = await Assert.ThrowsAsync<VideoIngestException>(() => fetcher.FetchAsync(new Uri("http://nowhere.test/video.mp4")));

        Assert.Equal(VideoErrorKind.UrlUnreachable, error.Kind);
        Assert.Empty(_dialled);
    }

    [Fact]
    public void Host_allow_list_admits_the_host_and_its_subdomains_only()
    {
        using var fetcher = Fetcher(new UrlFetchOptions { AllowedHosts = ["videos.test"] });

        fetcher.CheckUrl(new Uri("https://videos.test/a.mp4"));
        fetcher.CheckUrl(new Uri("https://cdn.videos.test/a.mp4"));
        var error = Assert.Throws<VideoIngestException>(() => fetcher.CheckUrl(new Uri("https://evilvideos.test/a.mp4")));
        Assert.Equal(VideoErrorKind.UrlRefused, error.Kind);
    }

    public void Dispose() => Directory.Delete(_store.Root, recursive: true);
}
