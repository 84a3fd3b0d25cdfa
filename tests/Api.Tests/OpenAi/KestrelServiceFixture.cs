using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using VQToken.Api.Tests.Infrastructure;

namespace VQToken.Api.Tests.OpenAi;

[CollectionDefinition(Name)]
public sealed class KestrelServiceCollection : ICollectionFixture<KestrelServiceFixture>
{
    public const string Name = "service on real Kestrel";
}

/// <summary>The whole service on a real Kestrel listener at 127.0.0.1 (WebApplicationFactory.UseKestrel), so
/// programs outside this process (node and the openai client) can call it; with a local video web server,
/// URL videos allowed from private addresses so that this loopback server may be fetched, and an API key.</summary>
public sealed class KestrelServiceFixture : IAsyncLifetime
{
    /// <summary>The one API key the service accepts here (OpenAI clients send it as a bearer token).</summary>
    public const string ApiKey = "openai-client-test-key";

    public ServiceFactory Factory { get; } = new(new Dictionary<string, string?>
    {
        ["Video:Url:AllowPrivateAddresses"] = "true",
        ["Auth:ApiKeys:0"] = ApiKey,
    });
    public LocalVideoServer VideoServer { get; private set; } = null!;
    public HttpClient Client { get; private set; } = null!;

    /// <summary>The service's address, e.g. http://127.0.0.1:41234/.</summary>
    public Uri Address { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        VideoServer = await LocalVideoServer.StartAsync(new Dictionary<string, string>
        {
            ["clip.mp4"] = TestVideos.Mp4(30),
            ["other.mp4"] = TestVideos.Mp4(31),
        });
        Factory.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        Factory.StartServer();
        var addresses = Factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        Address = new Uri(addresses.Single());
        Assert.True(IPAddress.IsLoopback(IPAddress.Parse(Address.Host)), $"the service listens on {Address}, not on loopback");
        Client = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromMinutes(5) };
        Client.DefaultRequestHeaders.Authorization = new("Bearer", ApiKey);
        await WaitReadyAsync(Client);
    }

    private static async Task WaitReadyAsync(HttpClient client)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var ready = await client.GetAsync("/readyz");
            if (ready.IsSuccessStatusCode) return;
            if (DateTime.UtcNow > until) throw new TimeoutException("the service did not become ready: " + await ready.Content.ReadAsStringAsync());
            await Task.Delay(100);
        }
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        Factory.Dispose();
        await VideoServer.DisposeAsync();
    }
}
