using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using VQToken.Api.Inference;
using VQToken.Api.Tests.Infrastructure;
using VQToken.Api.Tests.OpenAi;
using VQToken.Api.Videos;
using VQToken.Engine.Compression;
using VQToken.Engine.Generation;
using VQToken.Engine.Runtime;
using VQToken.Ingestion;

namespace VQToken.Api.Tests.Videos;

/// <summary>The limits that bound one request's engine work answer 400 problems naming the field, and
/// readiness reports an engine that stopped completing steps.</summary>
public class BoundedWorkTests
{
    private const string Validation = "urn:vqtoken:problem:validation";

    private static async Task AssertFieldProblemAsync(HttpClient client, Dictionary<string, string> fields, string field, string mentions)
    {
        var (status, body, _) = await client.UploadAsync(TestVideos.Mp4(70), fields);
        ApiClient.AssertProblem(HttpStatusCode.BadRequest, Validation, status, body);
        var messages = body["errors"]?[field]?.AsArray().Select(m => (string)m!).ToList();
        Assert.True(messages is { Count: > 0 }, $"no error for '{field}': {body.ToJsonString()}");
        Assert.Contains(messages, m => m.Contains(mentions, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Compression_settings_beyond_the_work_limits_are_400_problems_naming_the_field()
    {
        using var factory = new ServiceFactory();
        var client = await factory.ReadyClientAsync();
        await AssertFieldProblemAsync(client, new() { ["frames"] = "4", ["k"] = "257" }, "k", "Video:MaxK");
        await AssertFieldProblemAsync(client, new() { ["frames"] = "4", ["compression"] = "vqtoken-adaptive", ["minK"] = "12", ["maxK"] = "4096" }, "maxK", "Video:MaxK");
        await AssertFieldProblemAsync(client, new() { ["frames"] = "4", ["compression"] = "vqtoken-adaptive", ["minK"] = "1", ["maxK"] = "100" }, "maxK", "Video:MaxAdaptiveKSpan");
        await AssertFieldProblemAsync(client, new() { ["frames"] = "256", ["k"] = "256" }, "k", "Video:MaxFramesTimesK");
        await AssertFieldProblemAsync(client, new() { ["frames"] = "256", ["compression"] = "vqtoken-adaptive", ["minK"] = "100", ["maxK"] = "160" }, "maxK", "Video:MaxFramesTimesK");
        await AssertFieldProblemAsync(client, new() { ["fps"] = "1", ["maxFrames"] = "512", ["k"] = "128" }, "k", "Video:MaxFramesTimesK");
    }

    [Fact]
    public void Official_settings_stay_within_the_work_limits()
    {
        using var factory = new ServiceFactory();
        var intake = factory.Services.GetRequiredService<VideoIntake>();
        foreach (var request in new[]
        {
            new VideoSettingsRequest { Frames = 64, Compression = "vqtoken-adaptive", MinK = 12, MaxK = 32 },
            new VideoSettingsRequest { Frames = 64, Compression = "vqtoken-fixed", K = 32 },
            new VideoSettingsRequest { Frames = 64, Compression = "full" },
            new VideoSettingsRequest { Frames = 32, Compression = "vqtoken-fixed", K = 256 },
            new VideoSettingsRequest { Frames = 64, Compression = "vqtoken-adaptive", MinK = 64, MaxK = 128 },
        })
        {
            var (settings, errors) = intake.Validate(request);
            Assert.True(settings is not null, $"{request} refused: {string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}"))}");
        }
    }

    [Theory]
    [InlineData("Video:MaxK", "16")]
    [InlineData("Video:MaxAdaptiveKSpan", "8")]
    [InlineData("Video:MaxFramesTimesK", "64")]   // the test service samples 4 frames by default
    [InlineData("Video:MaxK", "32768")]           // beyond what the int16 index map of a cache entry holds
    public void Limits_that_refuse_the_default_settings_or_exceed_the_cached_form_stop_start_up(string setting, string value)
    {
        var error = ServiceFactory.StartUpFailure(new Dictionary<string, string?> { [setting] = value });
        Assert.Contains(setting, error.ToString());
    }

    [Fact]
    public async Task Questions_over_the_token_limit_are_400_problems_even_under_the_character_limit()
    {
        using var factory = new ServiceFactory();
        var client = await factory.ReadyClientAsync();
        var (_, uploaded, _) = await client.UploadAsync(TestVideos.Mp4(71), new Dictionary<string, string> { ["frames"] = "2", ["k"] = "4" });
        var id = (string)uploaded["id"]!;
        Assert.Equal("ready", (string?)(await client.WaitProcessedAsync(id))["status"]);
        string question = new('視', 3000);   // 3000 characters, several tokens each

        var (status, body) = await client.AskAsync(id, new { question, maxNewTokens = 2 });
        ApiClient.AssertProblem(HttpStatusCode.BadRequest, Validation, status, body);
        Assert.Contains("Ask:MaxQuestionTokens", (string)body["errors"]!["question"]![0]!);

        var (chatStatus, chatBody, chatResponse) = await client.CompleteAsync(ChatCompletionsClient.Ask(new JsonObject { ["type"] = "video", ["video_id"] = id }, question));
        var error = OpenAiSchema.AssertError(HttpStatusCode.BadRequest, Validation, "invalid_request_error", chatStatus, chatBody, chatResponse);
        Assert.Contains("Ask:MaxQuestionTokens", (string)chatBody["errors"]!["messages"]![0]!);
        Assert.Equal("messages", (string?)error["param"]);

        var (okStatus, okBody) = await client.AskAsync(id, new { question = new string('視', 20), maxNewTokens = 2 });
        Assert.True(okStatus == HttpStatusCode.OK, okBody.ToJsonString());
    }

    [Fact]
    public async Task Ask_during_the_worst_allowed_compression_meets_a_one_second_deadline_within_two_seconds()
    {
        using var factory = new ServiceFactory(new Dictionary<string, string?> { ["Ask:DeadlineSeconds"] = "1", ["Processing:Workers"] = "1" });
        var client = await factory.ReadyClientAsync();
        var (_, small, _) = await client.UploadAsync(TestVideos.Mp4(73), new Dictionary<string, string> { ["frames"] = "2", ["k"] = "4" });
        var smallId = (string)small["id"]!;
        Assert.Equal("ready", (string?)(await client.WaitProcessedAsync(smallId))["status"]);
        var (_, worst, _) = await client.UploadAsync(TestVideos.Mp4(74), new Dictionary<string, string>
        {
            ["frames"] = "64", ["compression"] = "vqtoken-adaptive", ["minK"] = "64", ["maxK"] = "128",
        });
        var worstId = (string)worst["id"]!;
        await client.WaitForCompressionAsync(worstId);

        var clock = Stopwatch.StartNew();
        var (status, body) = await client.AskAsync(smallId, new { question = "What happens in the video?", maxNewTokens = 64 });
        var elapsed = clock.Elapsed;

        Assert.True(status is HttpStatusCode.OK or HttpStatusCode.GatewayTimeout, body.ToJsonString());
        Assert.True(elapsed < TimeSpan.FromSeconds(2), $"the ask took {elapsed}");
        Assert.Equal("processing", (string?)(await ApiClient.BodyAsync(await client.GetAsync($"/videos/{worstId}")))["status"]);
        Assert.Equal("ready", (string?)(await client.WaitProcessedAsync(worstId, TimeSpan.FromSeconds(300)))["status"]);
    }

    [Fact]
    public async Task Readiness_reports_an_engine_that_completes_no_step_while_work_waits()
    {
        using var factory = new ServiceFactory(new Dictionary<string, string?> { ["Engine:StallSeconds"] = "0.5" });
        var client = await factory.ReadyClientAsync();
        var host = factory.Services.GetRequiredService<ModelHost>();
        var engine = host.Engine;
        var frames = new byte[384 * 384 * 3];
        new Random(5).NextBytes(frames);
        var encoding = await engine.EncodeAsync(new EncodeRequest("stall", new RgbFrames(1, 384, frames), CompressionMode.VQTokenFixed, CompressionSettings.Fixed(1, 4)));

        // A token callback that blocks holds the engine thread inside a step: a real hang, as a stuck device call would be.
        using var gate = new ManualResetEventSlim();
        var prompt = host.Template!.BuildPrompt("Hang?");
        var hung = engine.AskAsync(new AskRequest("stall", encoding, prompt, new SamplingOptions { MaxNewTokens = 2 }, OnToken: _ => gate.Wait(TimeSpan.FromSeconds(60))));
        var waiting = engine.AskAsync(new AskRequest("stall", encoding, prompt, new SamplingOptions { MaxNewTokens = 2 }));
        try
        {
            var clock = Stopwatch.StartNew();
            while (true)
            {
                var ready = await client.GetAsync("/readyz");
                var text = await ready.Content.ReadAsStringAsync();
                if (ready.StatusCode == HttpStatusCode.ServiceUnavailable && text.Contains("engine stuck", StringComparison.Ordinal)) break;
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "readiness never reported the stuck engine: " + text);
                await Task.Delay(100);
            }
        }
        finally
        {
            gate.Set();
        }
        await Task.WhenAll(hung, waiting);
        var healthy = Stopwatch.StartNew();
        while ((await client.GetAsync("/readyz")).StatusCode != HttpStatusCode.OK)
        {
            Assert.True(healthy.Elapsed < TimeSpan.FromSeconds(10), "readiness stayed failed after the engine moved on");
            await Task.Delay(50);
        }
    }
}
