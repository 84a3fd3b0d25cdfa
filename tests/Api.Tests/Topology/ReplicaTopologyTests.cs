using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using VQToken.Api.Tests.Infrastructure;
using VQToken.Api.Tests.Storage;
using VQToken.Api.Tests.Videos;

namespace VQToken.Api.Tests.Topology;

/// <summary>The deployment topology without containers: two service processes sharing a real
/// redis-server (records, cache entries, the job stream) and a shared source directory, behind the
/// real nginx with the deploy/ config — all on loopback.</summary>
public class ReplicaTopologyTests : IAsyncLifetime
{
    private readonly RedisServerFixture _redis = new();
    private readonly string _shared = Directory.CreateTempSubdirectory("vqtoken-replicas-").FullName;
    private readonly List<ServiceProcess> _replicas = [];

    public Task InitializeAsync() => Task.CompletedTask;

    private async Task<ServiceProcess> StartReplicaAsync(string name)
    {
        var redis = await _redis.GetConnectionStringAsync();
        var replica = ServiceProcess.Start(new Dictionary<string, string>
        {
            ["Model:Path"] = ServiceFactory.ModelDirectory, ["Engine:Device"] = "cpu", ["RateLimit:PermitsPerSecond"] = "0",
            ["Storage:Kind"] = "redis", ["Storage:Redis"] = redis, ["Storage:Path"] = Path.Combine(_shared, name),
            ["Storage:SharedSourcePath"] = Path.Combine(_shared, "sources"), ["Storage:ConsumerName"] = name,
            ["Storage:JobIdleTimeout"] = "00:00:03", ["Storage:PollInterval"] = "00:00:00.200", ["Processing:Workers"] = "1",
        });
        _replicas.Add(replica);
        await replica.WaitReadyAsync();
        return replica;
    }

    [Fact]
    public async Task Replicas_share_videos_and_finish_each_others_jobs_behind_nginx()
    {
        // 1. Upload via A; ask via B: answered from the shared cache, no vision pass on B.
        var a = await StartReplicaAsync("a");
        using var clientA = a.Client();
        var (_, first, _) = await clientA.UploadAsync(Infrastructure.TestVideos.Mp4(50), new Dictionary<string, string> { ["frames"] = "3" });
        var v1 = (string)first["id"]!;
        var readyOnA = await clientA.WaitProcessedAsync(v1);
        Assert.Equal("ready", (string?)readyOnA["status"]);

        var b = await StartReplicaAsync("b");
        using var clientB = b.Client();
        var (askStatus, answer) = await clientB.AskAsync(v1, new { question = "What is in the video?", maxNewTokens = 4 });
        Assert.Equal(HttpStatusCode.OK, askStatus);
        Assert.Equal("hit", (string?)answer["cache"]!["codebook"]);
        Assert.Equal(0, await FramesEncoded(clientB));
        var after = await ApiClient.BodyAsync(await clientB.GetAsync($"/videos/{v1}"));
        Assert.Equal((string?)readyOnA["updatedAt"], (string?)after["updatedAt"]);   // not reprocessed

        // 2. Kill A in the middle of a job: B finishes it.
        var (_, second, _) = await clientA.UploadAsync(Infrastructure.TestVideos.Mp4(51), new Dictionary<string, string> { ["frames"] = "24" });
        var v2 = (string)second["id"]!;
        await WaitForAsync(async () => (string?)(await ApiClient.BodyAsync(await clientB.GetAsync($"/videos/{v2}")))["status"] is "processing" or "ready");
        a.Crash();
        Assert.Equal("ready", (string?)(await clientB.WaitProcessedAsync(v2, TimeSpan.FromSeconds(120)))["status"]);

        // 3. nginx in front of a fresh A and B: the asks about one video land on one replica, SSE streams through.
        var a2 = await StartReplicaAsync("a2");
        await using var nginx = await NginxFront.StartAsync(a2.Port, b.Port);
        using var front = nginx.Client();
        var (uploadStatus, third, _) = await front.UploadAsync(Infrastructure.TestVideos.Mp4(52), new Dictionary<string, string> { ["frames"] = "2" });
        Assert.Equal(HttpStatusCode.Accepted, uploadStatus);
        var v3 = (string)third["id"]!;
        Assert.Equal("ready", (string?)(await front.WaitProcessedAsync(v3))["status"]);
        var servedBy = new HashSet<string>();
        for (int i = 0; i < 12; i++)
        {
            var response = await front.PostAsJsonAsync($"/videos/{v3}/ask", new { question = $"question {i}", maxNewTokens = 2 });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            servedBy.Add(response.Headers.GetValues("X-VQToken-Replica").Single());
        }
        Assert.Single(servedBy);

        using (var request = new HttpRequestMessage(HttpMethod.Post, $"/videos/{v3}/ask") { Content = JsonContent.Create(new { question = "stream it", maxNewTokens = 6 }) })
        {
            request.Headers.Accept.ParseAdd("text/event-stream");
            using var streamed = await front.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal("text/event-stream", streamed.Content.Headers.ContentType?.MediaType);
            var events = await ServerSentEventReader.ReadAllAsync(await streamed.Content.ReadAsStreamAsync());
            Assert.Equal("done", events[^1].Event);
            Assert.Contains(events, e => e.Event == "token");
        }

        // 4. Kill one replica while videos are being uploaded and processed: none is lost.
        var ids = new List<string>();
        for (int i = 0; i < 4; i++)
        {
            int variant = 53 + i;
            var (status, body, _) = await RetryOn502(async () =>
            {
                var (s, b, r) = await front.UploadAsync(Infrastructure.TestVideos.Mp4(variant), new Dictionary<string, string> { ["frames"] = "8" });
                return (s, b, (HttpResponseMessage?)r);
            });
            Assert.True(status is HttpStatusCode.Accepted, $"upload {i}: {(int)status} {body.ToJsonString()}");
            ids.Add((string)body["id"]!);
            if (i == 1) a2.Crash();
        }
        foreach (var id in ids)
            Assert.Equal("ready", (string?)(await RetryOn502(async () => (HttpStatusCode.OK, await front.WaitProcessedAsync(id, TimeSpan.FromSeconds(120)), (HttpResponseMessage?)null))).Body["status"]);
    }

    [Fact]
    public async Task Behind_nginx_re_asks_about_each_of_four_videos_reach_the_replica_that_holds_its_prefix_cache()
    {
        var a = await StartReplicaAsync("a");
        var b = await StartReplicaAsync("b");
        await using var nginx = await NginxFront.StartAsync(a.Port, b.Port);
        using var front = nginx.Client();
        var ids = new List<string>();
        for (int i = 0; i < 4; i++)
        {
            var (status, body, _) = await front.UploadAsync(Infrastructure.TestVideos.Mp4(60 + i), new Dictionary<string, string> { ["frames"] = "2", ["k"] = "4" });
            Assert.Equal(HttpStatusCode.Accepted, status);
            ids.Add((string)body["id"]!);
        }
        foreach (var id in ids) Assert.Equal("ready", (string?)(await front.WaitProcessedAsync(id))["status"]);

        foreach (var id in ids)
        {
            var replicas = new List<string>();
            var prefix = new List<string?>();
            for (int ask = 0; ask < 4; ask++)
            {
                var response = await front.PostAsJsonAsync($"/videos/{id}/ask", new { question = "What is in the video?", maxNewTokens = 2 });
                var answer = await ApiClient.BodyAsync(response);
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"ask {ask} about {id}: {(int)response.StatusCode} {answer.ToJsonString()}");
                replicas.Add(response.Headers.GetValues("X-VQToken-Replica").Single());
                prefix.Add((string?)answer["cache"]!["prefix"]);
            }
            Assert.Single(replicas.Distinct());
            Assert.Equal(["miss", "hit", "hit", "hit"], prefix);
        }
    }

    private static async Task<(HttpStatusCode Status, JsonObject Body, HttpResponseMessage? Response)> RetryOn502(
        Func<Task<(HttpStatusCode, JsonObject, HttpResponseMessage?)>> send)
    {
        for (int attempt = 0; ; attempt++)
        {
            var result = await send();
            // nginx does not replay a POST to the other replica; a client retries a 502 from a dead one.
            if (result.Item1 != HttpStatusCode.BadGateway || attempt == 3) return result;
        }
    }

    private static async Task<double> FramesEncoded(HttpClient client)
    {
        var metrics = await client.GetStringAsync("/metrics");
        return metrics.Split('\n').Where(l => l.StartsWith("vqtoken_engine_frames_encoded", StringComparison.Ordinal))
            .Sum(l => double.Parse(l.Split(' ')[^1], System.Globalization.CultureInfo.InvariantCulture));
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        var until = DateTime.UtcNow.AddSeconds(60);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < until, "condition not met in time");
            await Task.Delay(20);
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var r in _replicas) await r.DisposeAsync();
        await _redis.DisposeAsync();
        Directory.Delete(_shared, recursive: true);
    }
}
