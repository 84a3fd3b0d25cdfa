using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using VQToken.Api.Processing;
using VQToken.Api.Tests.Infrastructure;
using VQToken.Api.Videos;
using VQToken.Engine.Runtime;

namespace VQToken.Api.Tests.Videos;

/// <summary>Sampling per video (frames, or fps with maxFrames, and a time range): bad combinations are 400 problems
/// naming the field with nothing queued, and the sampling is part of the video's identity.</summary>
public class SamplingSettingsTests(VideosApiFixture service) : IClassFixture<VideosApiFixture>
{
    private const string Validation = "urn:vqtoken:problem:validation";
    private HttpClient Client => service.Client;

    public static TheoryData<string, string, string> BadUploads => new()
    {
        { "fps=0", "fps", "fps" },
        { "fps=-2", "fps", "fps" },
        { "fps=abc", "fps", "fps" },
        { "fps=1&maxFrames=2000", "maxFrames", "maxFrames" },
        { "frames=2000", "frames", "frames" },
        { "frames=4&fps=1", "frames", "fps" },
        { "maxFrames=4", "maxFrames", "fps" },
        { "start=-1", "start", "start" },
        { "start=1.5&end=1", "end", "start" },
        { "start=1&end=1", "end", "start" },
        { "end=30", "end", "duration" },          // the test video lasts 2 s: known only once it is probed
        { "start=5", "start", "end of the video" },
        { "start=0.51&end=0.52", "end", "no frame" },
    };

    [Theory]
    [MemberData(nameof(BadUploads))]
    public async Task Bad_sampling_settings_are_400_problems_naming_the_field_and_nothing_is_queued(string query, string field, string mentions)
    {
        int before = await CountAsync();
        var fields = query.Split('&').Select(p => p.Split('=')).ToDictionary(p => p[0], p => p[1]);

        var (status, body, _) = await Client.UploadAsync(TestVideos.Mp4(80), fields);

        ApiClient.AssertProblem(HttpStatusCode.BadRequest, Validation, status, body);
        var messages = body["errors"]?[field]?.AsArray().Select(m => (string)m!).ToList();
        Assert.True(messages is { Count: > 0 }, $"no error for '{field}': {body.ToJsonString()}");
        Assert.Contains(messages, m => m.Contains(mentions, StringComparison.OrdinalIgnoreCase));
        Assert.Equal(before, await CountAsync());
    }

    [Fact]
    public async Task Url_settings_are_checked_before_anything_is_fetched()
    {
        var response = await Client.PostAsJsonAsync("/videos", new { url = "https://example.invalid/clip.mp4", fps = 0, start = 3, end = 2 });
        var body = await ApiClient.BodyAsync(response);

        ApiClient.AssertProblem(HttpStatusCode.BadRequest, Validation, response.StatusCode, body);
        Assert.NotNull(body["errors"]!["fps"]);
        Assert.NotNull(body["errors"]!["end"]);
    }

    [Fact]
    public async Task Sampling_by_rate_in_a_time_range_is_processed_and_shown_in_the_settings()
    {
        var (status, body, _) = await Client.UploadAsync(TestVideos.Mp4(81),
            new Dictionary<string, string> { ["fps"] = "5", ["maxFrames"] = "32", ["start"] = "0.5", ["end"] = "1.5", ["k"] = "4" });

        Assert.Equal(HttpStatusCode.Accepted, status);
        var settings = body["settings"]!;
        Assert.Null(settings["frames"]);
        Assert.Equal(5, (double?)settings["fps"]);
        Assert.Equal(32, (int?)settings["maxFrames"]);
        Assert.Equal(0.5, (double?)settings["start"]);
        Assert.Equal(1.5, (double?)settings["end"]);

        var ready = await Client.WaitProcessedAsync((string)body["id"]!);
        Assert.Equal("ready", (string?)ready["status"]);
        Assert.Equal(5, FramesSampled(ready));   // every 2nd frame of frames 5..14 (10 fps)
    }

    [Fact]
    public async Task Fps_alone_is_capped_by_the_configured_frame_limit()
    {
        var (status, body, _) = await Client.UploadAsync(TestVideos.Mp4(82), new Dictionary<string, string> { ["fps"] = "2", ["k"] = "4" });

        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.True((int?)body["settings"]!["maxFrames"] >= 64, body.ToJsonString());
        var ready = await Client.WaitProcessedAsync((string)body["id"]!);
        Assert.Equal(4, FramesSampled(ready));   // 2 s at 2 per second
    }

    [Fact]
    public async Task Same_bytes_with_another_rate_or_range_are_another_video_and_the_same_settings_are_deduplicated()
    {
        var video = TestVideos.Mp4(83);
        var (s1, first, _) = await Client.UploadAsync(video, new Dictionary<string, string> { ["fps"] = "1", ["k"] = "4" });
        var (s2, second, _) = await Client.UploadAsync(video, new Dictionary<string, string> { ["fps"] = "2", ["k"] = "4" });
        var (s3, ranged, _) = await Client.UploadAsync(video, new Dictionary<string, string> { ["fps"] = "1", ["k"] = "4", ["end"] = "1" });
        var (s4, again, _) = await Client.UploadAsync(video, new Dictionary<string, string> { ["fps"] = "1.0", ["k"] = "4" });
        var (s5, fromZero, _) = await Client.UploadAsync(video, new Dictionary<string, string> { ["fps"] = "1", ["k"] = "4", ["start"] = "0" });

        Assert.Equal([HttpStatusCode.Accepted, HttpStatusCode.Accepted, HttpStatusCode.Accepted, HttpStatusCode.OK, HttpStatusCode.OK], [s1, s2, s3, s4, s5]);
        Assert.Equal(3, new[] { first, second, ranged }.Select(b => (string)b["id"]!).Distinct().Count());
        Assert.Equal((string)first["id"]!, (string)again["id"]!);
        Assert.Equal((string)first["id"]!, (string)fromZero["id"]!);
    }

    [Fact]
    public void Progress_carries_frames_done_of_the_total_and_the_time_the_rest_should_take()
    {
        var quarter = VideoProcessor.ProgressOf(new EncodeProgress("encoding", 256, 1024), TimeSpan.FromSeconds(10));
        var started = VideoProcessor.ProgressOf(new EncodeProgress("encoding", 0, 1024), TimeSpan.FromSeconds(1));
        var compressed = VideoProcessor.ProgressOf(new EncodeProgress("compressed", 1024, 1024), TimeSpan.FromSeconds(40));

        Assert.Equal(new VideoProgress("vision", 0.25, 256, 1024, 30), quarter);   // 10 s for 256 frames: 30 s for the other 768
        Assert.Equal(new VideoProgress("vision", 0, 0, 1024, null), started);     // no rate yet, no estimate
        Assert.Equal(new VideoProgress("compress", 1, 1024, 1024, 0), compressed);
    }

    [Fact]
    public async Task The_web_page_offers_the_sampling_settings()
    {
        var html = await Client.GetStringAsync("/");
        foreach (var field in new[] { "frames", "fps", "maxFrames", "start", "end" }) Assert.Contains($"name=\"{field}\"", html);
        var script = await Client.GetStringAsync("/app.js");
        foreach (var field in new[] { "fps:", "maxFrames:", "start:", "end:" }) Assert.Contains(field, script);
    }

    /// <summary>Frames the video was sampled with, from its progress at the end (frames done of the total).</summary>
    private static int FramesSampled(JsonObject video) => (int)video["progress"]!["framesTotal"]!;

    private async Task<int> CountAsync()
    {
        var list = await ApiClient.BodyAsync(await Client.GetAsync("/videos?limit=500"));
        return list["items"]!.AsArray().Count;
    }
}
