using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using VQToken.Cli.Load;

namespace VQToken.Engine.Tests.Cli;

[Collection(WholeProcessCollection.Name)]
public sealed class LoadCommandTests : IAsyncLifetime
{
    private WebApplication _app = null!;
    private Uri _base = null!;
    private int _asks;
    private readonly ConcurrentBag<string> _bodies = [];

    /// <summary>A stand-in for the service on 127.0.0.1: the ask endpoint answers, every 4th ask is
    /// refused as overloaded (429), unknown videos are 404.</summary>
    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.MapPost("/videos/{id}/ask", async (string id, HttpRequest request) =>
        {
            _bodies.Add(await new StreamReader(request.Body).ReadToEndAsync());
            if (id != "known") return Results.NotFound();
            return Interlocked.Increment(ref _asks) % 4 == 0
                ? Results.StatusCode(StatusCodes.Status429TooManyRequests)
                : Results.Json(new { answer = "a bar moves", tokens = 3 });
        });
        await _app.StartAsync();
        _base = new Uri(_app.Urls.Single());
    }

    [Fact]
    public async Task Load_counts_answers_and_errors_by_status_and_reports_latency_percentiles()
    {
        var report = await new LoadRunner(new LoadSettings(_base, Clients: 4, AsksPerClient: 5, "known", "What moves?", 7, TimeSpan.FromSeconds(30))).RunAsync();

        Assert.Equal(20, report.Requests);
        Assert.Equal(15, report.Succeeded);
        Assert.Equal(new Dictionary<string, int> { ["429"] = 5 }, report.Errors);
        Assert.True(report.ThroughputPerSecond > 0);
        Assert.True(report.LatencyMs["p50"] <= report.LatencyMs["p90"] && report.LatencyMs["p90"] <= report.LatencyMs["p99"] && report.LatencyMs["p99"] <= report.LatencyMs["max"]);
        Assert.Equal(20, _bodies.Count);
        Assert.All(_bodies, body =>
        {
            using var json = JsonDocument.Parse(body);
            Assert.Equal("What moves?", json.RootElement.GetProperty("question").GetString());
            Assert.Equal(7, json.RootElement.GetProperty("maxNewTokens").GetInt32());
        });
    }

    [Fact]
    public async Task Load_against_an_unknown_video_reports_every_ask_as_404()
    {
        var report = await new LoadRunner(new LoadSettings(_base, 2, 2, "missing", "q", 4, TimeSpan.FromSeconds(30))).RunAsync();

        Assert.Equal(0, report.Succeeded);
        Assert.Equal(new Dictionary<string, int> { ["404"] = 4 }, report.Errors);
    }

    [Fact]
    public void Load_command_exits_non_zero_when_the_service_is_unreachable()
    {
        var closed = new Uri($"http://127.0.0.1:{FreePort()}/");
        var output = new StringWriter();
        var original = Console.Out;
        Console.SetOut(output);
        int exit;
        try
        {
            exit = new LoadCommand().Run(["--url", closed.ToString(), "--clients", "2", "--asks", "1", "--video-id", "known", "--timeout-s", "10"]);
        }
        finally
        {
            Console.SetOut(original);
        }
        Assert.Equal(1, exit);
        using var json = JsonDocument.Parse(output.ToString());
        Assert.Equal(2, json.RootElement.GetProperty("errors").GetProperty("connection").GetInt32());
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
