using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace VQToken.Engine.Tests.Video;

/// <summary>A Kestrel server on 127.0.0.1 (port chosen by the OS) standing in for a remote video host.</summary>
internal sealed class LoopbackVideoServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _requests;
    private int _flaky;

    private LoopbackVideoServer(WebApplication app) => _app = app;

    public Uri BaseUri { get; private set; } = null!;
    public int Port => BaseUri.Port;
    public int Requests => Volatile.Read(ref _requests);

    public static async Task<LoopbackVideoServer> StartAsync(string videoPath)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var server = new LoopbackVideoServer(app);
        app.Use(async (context, next) =>
        {
            Interlocked.Increment(ref server._requests);
            await next(context);
        });
        app.MapGet("/video.mp4", () => Results.File(videoPath, "video/mp4"));
        app.MapGet("/text.mp4", () => Results.Text("not a video at all", "video/mp4"));
        app.MapGet("/redirect", () => Results.Redirect("/video.mp4"));
        app.MapGet("/redirect-to-loopback-literal", () => Results.Redirect($"http://127.0.0.1:{server.Port}/video.mp4"));
        app.MapGet("/redirect-to-internal-name", () => Results.Redirect("http://internal.test/video.mp4"));
        app.MapGet("/redirect-to-file", () => Results.Redirect("file:///etc/passwd"));
        app.MapGet("/loop", () => Results.Redirect("/loop"));
        app.MapGet("/missing", () => Results.NotFound());
        app.MapGet("/flaky", () => Interlocked.Increment(ref server._flaky) == 1
            ? Results.StatusCode(StatusCodes.Status503ServiceUnavailable)
            : Results.File(videoPath, "video/mp4"));
        // No Content-Length: the limit has to hold while streaming.
        app.MapGet("/endless", async (HttpContext context) =>
        {
            var chunk = new byte[64 * 1024];
            for (int i = 0; i < 64 && !context.RequestAborted.IsCancellationRequested; i++)
                await context.Response.Body.WriteAsync(chunk, context.RequestAborted);
        });
        await app.StartAsync();
        server.BaseUri = new Uri(app.Urls.Single());
        return server;
    }

    public Uri At(string path) => new(BaseUri, path);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
