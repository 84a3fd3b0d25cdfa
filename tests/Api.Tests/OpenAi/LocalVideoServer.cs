using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace VQToken.Api.Tests.OpenAi;

/// <summary>The "remote" web server of URL videos: Kestrel on 127.0.0.1 with a free port, serving test
/// files as video/mp4 at <c>/videos/{name}</c> and counting the requests it gets.</summary>
public sealed class LocalVideoServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _requests;

    private LocalVideoServer(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    public Uri Address { get; }

    /// <summary>Requests served so far (any path).</summary>
    public int Requests => Volatile.Read(ref _requests);

    public Uri UrlOf(string name) => new(Address, "/videos/" + name);

    public static async Task<LocalVideoServer> StartAsync(IReadOnlyDictionary<string, string> files)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        LocalVideoServer? server = null;
        app.Use((context, next) =>
        {
            Interlocked.Increment(ref server!._requests);
            return next(context);
        });
        app.MapGet("/videos/{name}", (string name) =>
            files.TryGetValue(name, out var path) ? Results.File(path, "video/mp4") : Results.NotFound());
        await app.StartAsync();
        server = new LocalVideoServer(app, new Uri(app.Urls.Single()));
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
