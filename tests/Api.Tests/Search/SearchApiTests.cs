using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using VQToken.Api.Ask;
using VQToken.Api.Inference;
using VQToken.Api.Search;
using VQToken.Api.Tests.Infrastructure;
using VQToken.Api.Tests.Videos;
using VQToken.Api.ServiceDefaults;
using VQToken.Api.Videos;
using VQToken.Cli;
using VQToken.Engine.Runtime;

namespace VQToken.Api.Tests.Search;

/// <summary>One service (tiny checkpoint) with three API keys: alpha owns three ready videos, beta one, gamma five of
/// which one is failed (four ready, one more than Search:MaxVideos).</summary>
public sealed class SearchFixture : IAsyncLifetime
{
    public const int MaxVideos = 3, MaxTop = 5;
    public ServiceFactory Factory { get; } = new(new Dictionary<string, string?>
    {
        ["Auth:ApiKeys:0"] = "alpha-key", ["Auth:ApiKeys:1"] = "beta-key", ["Auth:ApiKeys:2"] = "gamma-key",
        ["Search:MaxVideos"] = MaxVideos.ToString(), ["Search:MaxTop"] = MaxTop.ToString(), ["Ask:MaxQuestionTokens"] = "120",
    });
    public HttpClient Alpha { get; private set; } = null!;
    public HttpClient Beta { get; private set; } = null!;
    public HttpClient Gamma { get; private set; } = null!;
    public List<string> AlphaIds { get; } = [];
    public List<string> BetaIds { get; } = [];
    /// <summary>Oldest first; <see cref="GammaFailed"/> is among them.</summary>
    public List<string> GammaIds { get; } = [];
    public string GammaFailed { get; private set; } = "";

    public async Task InitializeAsync()
    {
        await Factory.ReadyClientAsync();
        Alpha = WithKey("alpha-key");
        Beta = WithKey("beta-key");
        Gamma = WithKey("gamma-key");
        foreach (var (client, ids, variants) in new[] { (Alpha, AlphaIds, new[] { 70, 71, 72 }), (Beta, BetaIds, [73]), (Gamma, GammaIds, [74, 75, 76, 77, 78]) })
            foreach (var variant in variants)
            {
                var (status, body, _) = await client.UploadAsync(TestVideos.Mp4(variant), new Dictionary<string, string> { ["frames"] = "2" });
                Assert.Equal(HttpStatusCode.Accepted, status);
                ids.Add((string)body["id"]!);
                Assert.Equal("ready", (string?)(await client.WaitProcessedAsync(ids[^1]))["status"]);
                await Task.Delay(5);   // distinct creation times
            }
        // A failure a real part cannot be made to produce on demand: set it in the store.
        GammaFailed = GammaIds[3];
        await Factory.Services.GetRequiredService<IVideoStore>().UpdateAsync(GammaFailed, r => r with { Status = VideoStatus.Failed, Reason = "decoder exploded" });
    }

    public HttpClient WithKey(string key)
    {
        var client = Factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", key);
        return client;
    }

    public Task DisposeAsync()
    {
        Factory.Dispose();
        return Task.CompletedTask;
    }
}

public class SearchApiTests(SearchFixture fx) : IClassFixture<SearchFixture>
{
    private const string Question = "Is there a dog on the beach?";

    private static async Task<(HttpStatusCode Status, JsonObject Body)> SearchAsync(HttpClient client, object body)
    {
        var response = await client.PostAsJsonAsync("/videos/search", body);
        return (response.StatusCode, await ApiClient.BodyAsync(response));
    }

    private static List<string> Ids(JsonObject body) => body["results"]!.AsArray().Select(r => (string)r!["id"]!).ToList();

    [Fact]
    public async Task Search_ranks_every_ready_video_of_the_key_with_the_scores_of_single_scoring_requests()
    {
        var (status, body) = await SearchAsync(fx.Alpha, new { question = "  " + Question + " ", top = SearchFixture.MaxTop });
        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.Equal(Question, (string?)body["question"]);
        Assert.Equal(3, (int)body["scored"]!);
        Assert.Equal(0, (int)body["skipped"]!);
        Assert.False((bool)body["truncated"]!);
        var results = body["results"]!.AsArray().Select(r => r!.AsObject()).ToList();
        Assert.Equal(fx.AlphaIds.Order(), results.Select(r => (string)r["id"]!).Order());
        Assert.Equal([1, 2, 3], results.Select(r => (int)r["rank"]!));
        var scores = results.Select(r => (double)r["score"]!).ToList();
        Assert.Equal(scores.OrderByDescending(s => s), scores);
        Assert.True(scores.Distinct().Count() > 1, "every video scored the same");

        // Each score against a single scoring request of the same template over the same encoding, prefix cache off.
        var services = fx.Factory.Services;
        var search = services.GetRequiredService<LibrarySearch>();
        var answerer = services.GetRequiredService<VideoAnswerer>();
        var engine = services.GetRequiredService<ModelHost>().Engine;
        var store = services.GetRequiredService<IVideoStore>();
        var ids = search.Prompt.Build(Question);
        foreach (var result in results)
        {
            var record = (await store.GetAsync((string)result["id"]!))!;
            var (encoding, _, _) = await answerer.EncodingOfReadyAsync(record, default);
            var single = await engine.ScoreAsync(new ScoreRequest("single-" + record.Id, encoding!, ids, search.Prompt.YesId, search.Prompt.NoId, UsePrefixCache: false));
            Assert.InRange(Math.Abs((double)result["score"]! - single.Score), 0, 1e-4);
            Assert.InRange(Math.Abs((double)result["logProbYes"]! - single.LogProbYes), 0, 1e-4);
            Assert.InRange(Math.Abs((double)result["logProbNo"]! - single.LogProbNo), 0, 1e-4);
            Assert.Equal(record.Source.Location, (string?)result["name"]);
            Assert.Equal(record.CreatedAt, DateTimeOffset.Parse((string)result["createdAt"]!));
            Assert.Equal(encoding!.VisualTokens, (int)result["visualTokens"]!);
            Assert.Equal($"/videos/{record.Id}/clusters.png", (string?)result["thumbnail"]);
        }
        var picture = await fx.Alpha.GetAsync((string)results[0]["thumbnail"]!);
        Assert.Equal(HttpStatusCode.OK, picture.StatusCode);
        Assert.Equal("image/png", picture.Content.Headers.ContentType?.MediaType);

        var (_, again) = await SearchAsync(fx.Alpha, new { question = Question, top = 1 });
        Assert.Equal([(string)results[0]["id"]!], Ids(again));
        Assert.Equal("hit", (string?)again["results"]![0]!["prefixCache"]);   // the first search left the prefixes cached
        Assert.InRange(Math.Abs((double)again["results"]![0]!["score"]! - scores[0]), 0, 1e-4);
    }

    [Fact]
    public async Task Search_with_evidence_gives_each_result_its_best_frames_at_the_records_times_and_the_same_scores()
    {
        var (_, plain) = await SearchAsync(fx.Alpha, new { question = Question, top = SearchFixture.MaxTop });
        var (status, body) = await SearchAsync(fx.Alpha, new { question = Question, top = SearchFixture.MaxTop, evidence = true });

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        var results = body["results"]!.AsArray().Select(r => r!.AsObject()).ToList();
        var without = plain["results"]!.AsArray().Select(r => r!.AsObject()).ToList();
        Assert.All(without, r => Assert.False(r.ContainsKey("frames"), r.ToJsonString()));
        Assert.Equal(Ids(plain), Ids(body));
        Assert.All(without.Zip(results), p => Assert.InRange(Math.Abs((double)p.First["score"]! - (double)p.Second["score"]!), 0, 1e-6));

        var services = fx.Factory.Services;
        var search = services.GetRequiredService<LibrarySearch>();
        var answerer = services.GetRequiredService<VideoAnswerer>();
        var engine = services.GetRequiredService<ModelHost>().Engine;
        var ids = search.Prompt.Build(Question);
        foreach (var result in results)
        {
            var id = (string)result["id"]!;
            var video = await ApiClient.BodyAsync(await fx.Alpha.GetAsync($"/videos/{id}"));
            var times = video["frameTimes"]!.AsArray().Select(t => (double)t!).ToArray();
            var frames = result["frames"]!.AsArray().Select(f => f!.AsObject()).ToList();
            Assert.Equal(Math.Min(SearchResult.EvidenceFrames, times.Length), frames.Count);
            Assert.All(frames, f => Assert.Equal(times[(int)f["index"]!], (double)f["time"]!));
            var scores = frames.Select(f => (double)f["score"]!).ToList();
            Assert.Equal(scores.OrderDescending(), scores);
            // The frames of a single evidence scoring request over the same encoding (prefix cache off).
            var record = (await services.GetRequiredService<IVideoStore>().GetAsync(id))!;
            var (encoding, _, _) = await answerer.EncodingOfReadyAsync(record, default);
            var single = await engine.ScoreAsync(new ScoreRequest("single-ev-" + id, encoding!, ids, search.Prompt.YesId, search.Prompt.NoId,
                UsePrefixCache: false, Evidence: true));
            Assert.Equal(single.Evidence!.Frames.Take(frames.Count).Select(f => f.Frame), frames.Select(f => (int)f["index"]!));
            Assert.All(single.Evidence.Frames.Zip(scores), p => Assert.InRange(Math.Abs(p.First.Score - p.Second), 0, 1e-6));
        }
    }

    [Fact]
    public async Task A_search_never_scores_or_returns_another_keys_videos()
    {
        var (status, beta) = await SearchAsync(fx.Beta, new { question = Question });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(fx.BetaIds, Ids(beta));
        Assert.Equal(1, (int)beta["scored"]!);

        var (_, alpha) = await SearchAsync(fx.Alpha, new { question = Question });
        Assert.Equal(3, (int)alpha["scored"]!);
        Assert.Empty(Ids(alpha).Intersect(fx.BetaIds.Concat(fx.GammaIds)));

        // Another key's id is unknown to this one, alone or among its own.
        var (otherStatus, other) = await SearchAsync(fx.Beta, new { question = Question, ids = new[] { fx.BetaIds[0], fx.AlphaIds[0] } });
        ApiClient.AssertProblem(HttpStatusCode.NotFound, "urn:vqtoken:problem:not-found", otherStatus, other);
        Assert.Contains(fx.AlphaIds[0], (string?)other["detail"]);

        var (ownStatus, own) = await SearchAsync(fx.Alpha, new { question = Question, ids = new[] { fx.AlphaIds[2], fx.AlphaIds[0] } });
        Assert.Equal(HttpStatusCode.OK, ownStatus);
        Assert.Equal(new[] { fx.AlphaIds[0], fx.AlphaIds[2] }.Order(), Ids(own).Order());
        Assert.Equal(2, (int)own["scored"]!);

        var anonymous = fx.Factory.CreateClient();
        var denied = await anonymous.PostAsJsonAsync("/videos/search", new { question = Question });
        Assert.Equal(HttpStatusCode.Unauthorized, denied.StatusCode);
    }

    [Theory]
    [InlineData("""{"question":""}""", "question")]
    [InlineData("""{"question":"   "}""", "question")]
    [InlineData("""{"top":3}""", "question")]
    [InlineData("""{"question":"Is it day?","top":0}""", "top")]
    [InlineData("""{"question":"Is it day?","top":-2}""", "top")]
    [InlineData("""{"question":"Is it day?","top":6}""", "top")]
    [InlineData("""{"question":"Is it day?","limit":3}""", "limit")]
    [InlineData("""{"question":"Is it day?","ids":[]}""", "ids")]
    [InlineData("""{"question":"Is it day?","ids":["../etc"]}""", "ids")]
    [InlineData("""{"question":"Is it day?","ids":[null]}""", "ids")]
    [InlineData("""{"question":"Is it day?","createdAfter":"yesterday"}""", "createdAfter")]
    public async Task Bad_search_input_is_a_400_naming_the_field(string json, string field)
    {
        var response = await fx.Alpha.PostAsync("/videos/search", new StringContent(json, Encoding.UTF8, "application/json"));
        var body = await ApiClient.BodyAsync(response);
        ApiClient.AssertProblem(HttpStatusCode.BadRequest, "urn:vqtoken:problem:validation", response.StatusCode, body);
        Assert.True(body["errors"]?[field] is not null, body.ToJsonString());
    }

    [Fact]
    public async Task A_question_over_the_token_limit_is_refused_naming_the_setting()
    {
        var (status, body) = await SearchAsync(fx.Alpha, new { question = string.Join(" ", Enumerable.Repeat("Is there a dog?", 30)) });
        ApiClient.AssertProblem(HttpStatusCode.BadRequest, "urn:vqtoken:problem:validation", status, body);
        Assert.Contains("Ask:MaxQuestionTokens", body["errors"]!["question"]![0]!.ToString());
    }

    [Fact]
    public async Task Over_the_video_limit_the_newest_ready_videos_are_scored_and_failed_ones_never()
    {
        var (status, body) = await SearchAsync(fx.Gamma, new { question = Question, top = SearchFixture.MaxTop });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True((bool)body["truncated"]!);
        Assert.Equal(SearchFixture.MaxVideos, (int)body["scored"]!);
        var newestReady = fx.GammaIds.Where(id => id != fx.GammaFailed).Reverse().Take(SearchFixture.MaxVideos);
        Assert.Equal(newestReady.Order(), Ids(body).Order());

        // createdAfter: only the two newest (one of them failed, so one scored), not truncated.
        var created = await ApiClient.BodyAsync(await fx.Gamma.GetAsync($"/videos/{fx.GammaIds[2]}"));
        var (_, after) = await SearchAsync(fx.Gamma, new { question = Question, createdAfter = (string)created["createdAt"]! });
        Assert.Equal([fx.GammaIds[4]], Ids(after));
        Assert.False((bool)after["truncated"]!);

        // Naming more videos than one search may score is refused; naming a failed one leaves it out.
        var (tooMany, refused) = await SearchAsync(fx.Gamma, new { question = Question, ids = fx.GammaIds });
        ApiClient.AssertProblem(HttpStatusCode.BadRequest, "urn:vqtoken:problem:validation", tooMany, refused);
        Assert.Contains("Search:MaxVideos", refused["errors"]!["ids"]![0]!.ToString());
        var (_, named) = await SearchAsync(fx.Gamma, new { question = Question, ids = new[] { fx.GammaFailed, fx.GammaIds[0] } });
        Assert.Equal([fx.GammaIds[0]], Ids(named));
        Assert.Equal(1, (int)named["scored"]!);
    }

    [Fact]
    public async Task A_streamed_search_sends_progress_then_the_ranked_result()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/videos/search") { Content = JsonContent.Create(new { question = Question }) };
        request.Headers.Accept.ParseAdd("text/event-stream");
        using var response = await fx.Alpha.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = await ServerSentEventReader.ReadAllAsync(await response.Content.ReadAsStreamAsync());

        Assert.Equal([.. Enumerable.Repeat("progress", 4), "done"], events.Select(e => e.Event));
        var progress = events.SkipLast(1).Select(e => JsonNode.Parse(e.Data)!).ToList();
        Assert.Equal([0, 1, 2, 3], progress.Select(p => (int)p["scored"]!));
        Assert.All(progress, p => Assert.Equal(3, (int)p["total"]!));
        var done = JsonNode.Parse(events[^1].Data)!.AsObject();
        var (_, plain) = await SearchAsync(fx.Alpha, new { question = Question });
        Assert.Equal(Ids(plain), Ids(done));
        Assert.Equal(3, (int)done["scored"]!);

        // "stream": true in the body streams the same way.
        var flagged = await fx.Alpha.PostAsJsonAsync("/videos/search", new { question = Question, stream = true });
        Assert.Equal("text/event-stream", flagged.Content.Headers.ContentType?.MediaType);
        Assert.EndsWith("done", (await ServerSentEventReader.ReadAllAsync(await flagged.Content.ReadAsStreamAsync()))[^1].Event);
    }

    [Fact]
    public async Task The_cli_search_over_the_data_directory_ranks_a_keys_videos_as_the_http_search_does()
    {
        var (_, http) = await SearchAsync(fx.Alpha, new { question = Question, top = SearchFixture.MaxTop });
        var engine = new EngineOptions { Device = "cpu", Threads = 2 };
        var cli = await CliProgress.RunAsync(progress => SearchCommand.SearchAsync(fx.Factory.DataDirectory, ServiceFactory.ModelDirectory,
            Caller.OwnerOf("alpha-key"), new SearchQuery(Question, SearchFixture.MaxTop, null, null), 100, engine, progress), console: null);

        Assert.Equal(Ids(http), cli.Results.Select(r => r.Id));
        Assert.Equal(3, cli.Scored);
        foreach (var (web, local) in http["results"]!.AsArray().Zip(cli.Results))
        {
            Assert.InRange(Math.Abs((double)web!["score"]! - local.Score), 0, 1e-4);
            Assert.Equal((string?)web["name"], local.Name);
        }

        var beta = await CliProgress.RunAsync(progress => SearchCommand.SearchAsync(fx.Factory.DataDirectory, ServiceFactory.ModelDirectory,
            Caller.OwnerOf("beta-key"), new SearchQuery(Question, SearchFixture.MaxTop, null, null, Evidence: true), 100, engine, progress), console: null);
        Assert.Equal(fx.BetaIds, beta.Results.Select(r => r.Id));
        Assert.Equal(1, beta.Scored);
        // With evidence, the CLI lists the same best frames as the route.
        var (_, betaHttp) = await SearchAsync(fx.Beta, new { question = Question, evidence = true });
        var webFrames = betaHttp["results"]![0]!["frames"]!.AsArray().Select(f => ((int)f!["index"]!, (double?)f["time"], (double)f["score"]!)).ToList();
        var cliFrames = beta.Results[0].Frames!;
        Assert.Equal(webFrames.Select(f => (f.Item1, f.Item2)), cliFrames.Select(f => (f.Index, f.Time)));
        Assert.All(webFrames.Zip(cliFrames), p => Assert.InRange(Math.Abs(p.First.Item3 - p.Second.Score), 0, 1e-5));
    }

    [Fact]
    public async Task An_ask_sent_while_a_search_streams_answers_as_it_does_alone()
    {
        var ask = new { question = "What happens in this video?", maxNewTokens = 8 };
        var (aloneStatus, alone) = await fx.Alpha.AskAsync(fx.AlphaIds[1], ask);
        Assert.Equal(HttpStatusCode.OK, aloneStatus);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/videos/search") { Content = JsonContent.Create(new { question = "Is it night?", stream = true }) };
        using var response = await fx.Gamma.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Task<(HttpStatusCode Status, JsonObject Body)>? during = null;
        var events = await ServerSentEventReader.ReadAllAsync(await response.Content.ReadAsStreamAsync(), e =>
        {
            if (e.Event == "progress" && during is null) during = fx.Alpha.AskAsync(fx.AlphaIds[1], ask);
        });

        Assert.Equal("done", events[^1].Event);
        var (status, answer) = await during!;
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal((string?)alone["answer"], (string?)answer["answer"]);
    }

    [Fact]
    public void The_cli_search_refuses_a_folder_that_is_not_a_data_directory_and_contradictory_owners_as_usage_errors()
    {
        var empty = Directory.CreateTempSubdirectory("vqtoken-search-cli-");
        try
        {
            Assert.Equal(VQTokenCli.UsageError, new SearchCommand().Run([Question, "--data", empty.FullName, "--checkpoint", ServiceFactory.ModelDirectory]));
            Assert.Empty(empty.EnumerateFileSystemInfos());   // nothing was created in it
            Assert.Equal(VQTokenCli.UsageError, new SearchCommand().Run([Question, "--data", fx.Factory.DataDirectory, "--api-key", "a", "--owner", "b"]));
            Assert.Equal(VQTokenCli.UsageError, new SearchCommand().Run([Question, "--data", fx.Factory.DataDirectory, "--created-after", "soon"]));
        }
        finally
        {
            empty.Delete(recursive: true);
        }
    }
}
