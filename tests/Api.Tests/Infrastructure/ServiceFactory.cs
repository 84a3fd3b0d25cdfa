using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using VQToken.Engine.Checkpoints;
using VQToken.Testing;

namespace VQToken.Api.Tests.Infrastructure;

/// <summary>The whole service in-process (WebApplicationFactory) over a generated tiny checkpoint and a
/// temporary data directory; extra settings can be given per factory.</summary>
public class ServiceFactory : WebApplicationFactory<Program>
{
    private static readonly Lazy<string> SharedCheckpoint = new(() =>
    {
        var dir = Path.Combine(Path.GetTempPath(), "vqtoken-api-tests-model-" + Environment.ProcessId);
        if (!File.Exists(Path.Combine(dir, "config.json")))
            RandomCheckpoint.Write(dir, new RandomCheckpoint.Options(CheckpointSize.Tiny, Seed: 3));
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { Directory.Delete(dir, true); } catch (IOException) { } };
        return dir;
    });

    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "vqtoken-api-tests-" + Guid.NewGuid().ToString("N")[..10]);
    public static string ModelDirectory => SharedCheckpoint.Value;
    private readonly Dictionary<string, string?> _settings;

    public ServiceFactory(IDictionary<string, string?>? settings = null)
    {
        _settings = new Dictionary<string, string?>
        {
            ["Model:Path"] = ModelDirectory,
            ["Storage:Path"] = DataDirectory,
            ["Engine:Device"] = "cpu",
            ["Engine:Threads"] = "2",
            ["Video:DefaultFrames"] = "4",
            ["Video:TempRoot"] = Path.Combine(DataDirectory, "tmp"),
            ["RateLimit:PermitsPerSecond"] = "0",
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>()) _settings[k] = v;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        // UseSetting (not ConfigureAppConfiguration) so Program sees the values while it registers services.
        foreach (var (key, value) in _settings) builder.UseSetting(key, value);
    }

    /// <summary>Starts the service on real Kestrel at 127.0.0.1 and a free port (its body limits, data rates and
    /// client addresses apply, unlike the in-memory test server); returns the address.</summary>
    public Uri StartKestrel()
    {
        UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        StartServer();
        var address = new Uri(Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        Assert.True(IPAddress.IsLoopback(IPAddress.Parse(address.Host)), $"the service listens on {address}, not on loopback");
        return address;
    }

    /// <summary>The exception with which start-up fails under <paramref name="settings"/>; throws when it starts.
    /// WebApplicationFactory can lose the race with a failing host's disposal and report an
    /// ObjectDisposedException from its own service lookup instead of the start-up error (dotnet/aspnetcore#33494):
    /// that one case is tried again.</summary>
    public static Exception StartUpFailure(IDictionary<string, string?> settings)
    {
        for (int attempt = 1; ; attempt++)
        {
            using var factory = new ServiceFactory(settings);
            try
            {
                factory.CreateClient();
            }
            catch (ObjectDisposedException) when (attempt < 3)
            {
                continue;
            }
            catch (Exception e)
            {
                return e;
            }
            throw new InvalidOperationException("the service started although start-up should fail");
        }
    }

    /// <summary>Waits until /readyz reports healthy (model loaded).</summary>
    public async Task<HttpClient> ReadyClientAsync(TimeSpan? timeout = null)
    {
        var client = CreateClient();
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var ready = await client.GetAsync("/readyz");
            if (ready.IsSuccessStatusCode) return client;
            if (clock.Elapsed > (timeout ?? TimeSpan.FromSeconds(60)))
                throw new TimeoutException("the service did not become ready: " + await ready.Content.ReadAsStringAsync());
            await Task.Delay(100);
        }
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        try { Directory.Delete(DataDirectory, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
