using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using VQToken.Api.Tests.Infrastructure;
using VQToken.Api.Tests.OpenAi;
using VQToken.Api.Tests.Storage;
using VQToken.Api.Tests.Videos;

namespace VQToken.Api.Tests.Topology;

/// <summary>Replicas against a real redis-server that the test stops, restarts with its data, and
/// restarts empty: no replica dies, requests get 503 + Retry-After at once, readiness follows Redis,
/// and every video is processed exactly once.</summary>
public class RedisOutageTests : IAsyncLifetime
{
    private readonly RedisServerFixture _redis = new() { AppendOnly = true };
    private readonly string _shared = Directory.CreateTempSubdirectory("vqtoken-outage-").FullName;
    private readonly List<ServiceProcess> _replicas = [];

    public Task InitializeAsync() => Task.CompletedTask;

    private Dictionary<string, string> Settings(string name, string redis) => new()
    {
        ["Model:Path"] = ServiceFactory.ModelDirectory, ["Engine:Device"] = "cpu", ["RateLimit:PermitsPerSecond"] = "0",
        ["Storage:Kind"] = "redis", ["Storage:Redis"] = redis, ["Storage:Path"] = Path.Combine(_shared, name),
        ["Storage:SharedSourcePath"] = Path.Combine(_shared, "sources"), ["Storage:ConsumerName"] = name,
        ["Storage:PollInterval"] = "00:00:00.200", ["Processing:Workers"] = "1", ["Engine:MaxBatchFrames"] = "2",
        // Storage:JobIdleTimeout stays at its default: nothing may need a reclaim to finish.
    };

    [Fact]
    public async Task Two_replicas_ride_out_a_30_s_Redis_outage_and_a_restart_without_data()
    {
        await _redis.GetConnectionStringAsync();
        var redis = _redis.ConnectionString!;
        var a = ServiceProcess.Start(Settings("a", redis));
        var b = ServiceProcess.Start(Settings("b", redis));
        _replicas.AddRange([a, b]);
        await Task.WhenAll(a.WaitReadyAsync(TimeSpan.FromSeconds(180)), b.WaitReadyAsync(TimeSpan.FromSeconds(180)));
        using var clientA = a.Client();
        using var clientB = b.Client();
        double framesBefore = await FramesEncoded(clientA) + await FramesEncoded(clientB);

        // Two videos, one per replica; Redis goes away while they are processing.
        const int Frames = 24;
        var ids = new List<string>();
        foreach (var variant in new[] { 90, 91 })
        {
            var (status, body, _) = await clientA.UploadAsync(Infrastructure.TestVideos.Mp4(variant), new Dictionary<string, string> { ["frames"] = Frames.ToString() });
            Assert.True(status == HttpStatusCode.Accepted, $"upload: {(int)status} {body.ToJsonString()}");
            ids.Add((string)body["id"]!);
        }
        await WaitForAsync(async () => await StatusAsync(clientA, ids[0]) == "processing" && await StatusAsync(clientA, ids[1]) == "processing",
            TimeSpan.FromSeconds(60), "both videos processing");
        await _redis.StopAsync();
        var outage = Stopwatch.StartNew();

        foreach (var client in new[] { clientA, clientB })
        {
            await WaitForAsync(async () => (await client.GetAsync("/readyz")).StatusCode == HttpStatusCode.ServiceUnavailable,
                TimeSpan.FromSeconds(10), "readiness false while Redis is gone");
            var clock = Stopwatch.StartNew();
            var response = await client.GetAsync($"/videos/{ids[0]}");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"a request waited {clock.Elapsed} for the missing Redis");
            ApiClient.AssertProblem(HttpStatusCode.ServiceUnavailable, "urn:vqtoken:problem:store-unavailable", response.StatusCode, await ApiClient.BodyAsync(response));
            Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero, "no Retry-After on the 503");
        }
        while (outage.Elapsed < TimeSpan.FromSeconds(30))
        {
            Assert.False(a.HasExited || b.HasExited, "a replica exited during the outage:\n" + a.Log + b.Log);
            await Task.Delay(1000);
        }
        await _redis.RestartAsync();

        await Task.WhenAll(a.WaitReadyAsync(TimeSpan.FromSeconds(30)), b.WaitReadyAsync(TimeSpan.FromSeconds(30)));
        foreach (var id in ids)
            Assert.Equal("ready", (string?)(await clientB.WaitProcessedAsync(id, TimeSpan.FromSeconds(120)))["status"]);
        double encoded = await FramesEncoded(clientA) + await FramesEncoded(clientB) - framesBefore;
        Assert.Equal(2 * Frames, encoded);   // each video through the vision tower once: none processed twice

        // Redis comes back with nothing: the next upload is processed by the replicas already running.
        await _redis.RestartAsync(empty: true);
        await Task.WhenAll(a.WaitReadyAsync(TimeSpan.FromSeconds(30)), b.WaitReadyAsync(TimeSpan.FromSeconds(30)));
        var (afterStatus, after, _) = await clientA.UploadAsync(Infrastructure.TestVideos.Mp4(92), new Dictionary<string, string> { ["frames"] = "2" });
        Assert.True(afterStatus == HttpStatusCode.Accepted, $"upload after data loss: {(int)afterStatus} {after.ToJsonString()}");
        Assert.Equal("ready", (string?)(await clientB.WaitProcessedAsync((string)after["id"]!, TimeSpan.FromSeconds(60)))["status"]);
        Assert.False(a.HasExited || b.HasExited, "a replica exited");
    }

    [Fact]
    public async Task Replica_starts_while_Redis_is_down_answers_503_and_becomes_ready_when_Redis_returns()
    {
        await _redis.GetConnectionStringAsync();
        await _redis.StopAsync();
        var replica = ServiceProcess.Start(Settings("late", _redis.ConnectionString!));
        _replicas.Add(replica);
        using var client = replica.Client();

        await WaitForAsync(async () => await Answers(client, "/healthz") == HttpStatusCode.OK, TimeSpan.FromSeconds(120), "the replica answering");
        var ready = await client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains("store", await ready.Content.ReadAsStringAsync());
        var clock = Stopwatch.StartNew();
        var list = await client.GetAsync("/videos");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"a request waited {clock.Elapsed} for the missing Redis");
        ApiClient.AssertProblem(HttpStatusCode.ServiceUnavailable, "urn:vqtoken:problem:store-unavailable", list.StatusCode, await ApiClient.BodyAsync(list));
        Assert.NotNull(list.Headers.RetryAfter);

        await _redis.RestartAsync();

        await replica.WaitReadyAsync(TimeSpan.FromSeconds(30));
        var (status, body, _) = await client.UploadAsync(Infrastructure.TestVideos.Mp4(93), new Dictionary<string, string> { ["frames"] = "2" });
        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal("ready", (string?)(await client.WaitProcessedAsync((string)body["id"]!, TimeSpan.FromSeconds(60)))["status"]);
        Assert.False(replica.HasExited);
    }

    [Fact]
    public async Task Hung_Redis_gives_503_within_the_command_timeout_on_every_route()
    {
        await _redis.GetConnectionStringAsync();
        using var factory = new ServiceFactory(new Dictionary<string, string?>
        {
            ["Storage:Kind"] = "redis", ["Storage:Redis"] = _redis.ConnectionString, ["Storage:KeyPrefix"] = "hung:",
            ["Storage:SharedSourcePath"] = Path.Combine(_shared, "sources"),
        });
        var client = await factory.ReadyClientAsync(TimeSpan.FromSeconds(120));
        var (_, body, _) = await client.UploadAsync(Infrastructure.TestVideos.Mp4(94), new Dictionary<string, string> { ["frames"] = "2" });
        var id = (string)body["id"]!;
        Assert.Equal("ready", (string?)(await client.WaitProcessedAsync(id))["status"]);

        await _redis.PauseAsync();
        try
        {
            // Connected but silent: commands time out (a TimeoutException, which must not read as the ask's own 504).
            foreach (var send in new Func<Task<HttpResponseMessage>>[]
            {
                () => client.GetAsync($"/videos/{id}"),
                () => client.PostAsJsonAsync($"/videos/{id}/ask", new { question = "still there?", maxNewTokens = 2 }),
                async () => (await client.CompleteAsync(ChatCompletionsClient.Ask(ChatCompletionsClient.VideoUrlPart($"vqtoken://videos/{id}")))).Response,
            })
            {
                var clock = Stopwatch.StartNew();
                var response = await send();
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(8), $"a request waited {clock.Elapsed} for the hung Redis");
                ApiClient.AssertProblem(HttpStatusCode.ServiceUnavailable, "urn:vqtoken:problem:store-unavailable", response.StatusCode, await ApiClient.BodyAsync(response));
                Assert.NotNull(response.Headers.RetryAfter);
            }
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/readyz")).StatusCode);
        }
        finally
        {
            await _redis.ResumeAsync();
        }
        await factory.ReadyClientAsync(TimeSpan.FromSeconds(30));
    }

    private static async Task<HttpStatusCode?> Answers(HttpClient client, string path)
    {
        try { return (await client.GetAsync(path)).StatusCode; }
        catch (HttpRequestException) { return null; }
    }

    private static async Task<string?> StatusAsync(HttpClient client, string id)
    {
        JsonObject body = await ApiClient.BodyAsync(await client.GetAsync($"/videos/{id}"));
        return (string?)body["status"];
    }

    private static async Task<double> FramesEncoded(HttpClient client)
    {
        var metrics = await client.GetStringAsync("/metrics");
        return metrics.Split('\n').Where(l => l.StartsWith("vqtoken_engine_frames_encoded", StringComparison.Ordinal))
            .Sum(l => double.Parse(l.Split(' ')[^1], System.Globalization.CultureInfo.InvariantCulture));
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < timeout, $"not seen within {timeout}: {what}");
            await Task.Delay(50);
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var r in _replicas) await r.DisposeAsync();
        await _redis.DisposeAsync();
        Directory.Delete(_shared, recursive: true);
    }
}
