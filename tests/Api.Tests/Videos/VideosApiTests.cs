using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using VQToken.Api.Tests.Infrastructure;

namespace VQToken.Api.Tests.Videos;

public sealed class VideosApiFixture : IAsyncLifetime
{
    public ServiceFactory Factory { get; } = new();
    public HttpClient Client { get; private set; } = null!;
    public async Task InitializeAsync() => Client = await Factory.ReadyClientAsync();
    public Task DisposeAsync() { Factory.Dispose(); return Task.CompletedTask; }
}

public class VideosApiTests(VideosApiFixture service) : IClassFixture<VideosApiFixture>
{
    private HttpClient Client => service.Client;

    [Fact]
    public async Task Upload_is_accepted_processed_and_listed()
    {
        var (status, body, response) = await Client.UploadAsync(TestVideos.Mp4(1), new Dictionary<string, string> { ["frames"] = "3", ["k"] = "8" });
        Assert.Equal(HttpStatusCode.Accepted, status);
        var id = (string)body["id"]!;
        Assert.Equal($"/videos/{id}", response.Headers.Location?.ToString());
        Assert.Equal("upload", (string?)body["source"]!["kind"]);
        Assert.Equal(3, (int?)body["settings"]!["frames"]);
        Assert.Equal(8, (int?)body["settings"]!["k"]);
        Assert.Equal(160, (int?)body["probe"]!["width"]);

        var ready = await Client.WaitProcessedAsync(id);
        Assert.Equal("ready", (string?)ready["status"]);
        Assert.Equal(3 * 729, (long?)ready["tokens"]!["original"]);
        Assert.Equal(Math.Max(3, 8) + 1, (long?)ready["tokens"]!["compressed"]);
        Assert.True((double?)ready["timingsMs"]!["vision"] > 0);

        var list = await ApiClient.BodyAsync(await Client.GetAsync("/videos?status=ready&limit=500"));
        Assert.Contains(list["items"]!.AsArray(), v => (string?)v!["id"] == id);
    }

    [Fact]
    public async Task Processed_video_gives_each_sampled_frame_its_time_in_the_source_and_keeps_them_in_its_cache_entry()
    {
        // 2 s at 10 fps = 20 frames; 3 uniform samples are frames 0, 9 and 19.
        var (_, body, _) = await Client.UploadAsync(TestVideos.Mp4(101), new Dictionary<string, string> { ["frames"] = "3", ["k"] = "4" });
        var id = (string)body["id"]!;
        Assert.Null(body["frameTimes"]);

        var ready = await Client.WaitProcessedAsync(id);
        Assert.Equal("ready", (string?)ready["status"]);
        Assert.Equal(10.0, (double?)ready["probe"]!["fps"]);
        Assert.Equal([0.0, 0.9, 1.9], ready["frameTimes"]!.AsArray().Select(t => (double)t!).ToArray());

        var fingerprint = service.Factory.Services.GetRequiredService<VQToken.Api.Inference.ModelHost>().Fingerprint;
        var entry = await service.Factory.Services.GetRequiredService<VQToken.Api.Cache.ICompressedCache>().GetAsync(id, fingerprint);
        Assert.Equal([0.0, 0.9, 1.9], entry.Entry!.FrameTimes);
    }

    [Fact]
    public async Task Same_bytes_and_settings_return_the_existing_video()
    {
        var (first, body, _) = await Client.UploadAsync(TestVideos.Mp4(2), new Dictionary<string, string> { ["frames"] = "2" });
        Assert.Equal(HttpStatusCode.Accepted, first);
        var id = (string)body["id"]!;
        await Client.WaitProcessedAsync(id);
        var (again, againBody, _) = await Client.UploadAsync(TestVideos.Mp4(2), new Dictionary<string, string> { ["frames"] = "2" });
        Assert.Equal(HttpStatusCode.OK, again);
        Assert.Equal(id, (string?)againBody["id"]);
        var (other, otherBody, _) = await Client.UploadAsync(TestVideos.Mp4(2), new Dictionary<string, string> { ["frames"] = "2", ["compression"] = "full" });
        Assert.Equal(HttpStatusCode.Accepted, other);
        Assert.NotEqual(id, (string?)otherBody["id"]);
    }

    [Fact]
    public async Task Ask_answers_with_usage_compression_timings_and_cache()
    {
        var (_, body, _) = await Client.UploadAsync(TestVideos.Mp4(3), new Dictionary<string, string> { ["frames"] = "2", ["k"] = "4" });
        var id = (string)body["id"]!;
        await Client.WaitProcessedAsync(id);
        var (status, answer) = await Client.AskAsync(id, new { question = "What happens?", maxNewTokens = 6 });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.NotNull((string?)answer["answer"]);
        Assert.Contains((string?)answer["finishReason"], new[] { "stop", "length" });
        Assert.Equal(Math.Max(2, 4) + 1, (int?)answer["usage"]!["visualTokens"]);
        Assert.InRange((int)answer["usage"]!["completionTokens"]!, 1, 6);
        Assert.True((int?)answer["usage"]!["promptTokens"] > 5);
        Assert.Equal("vqtoken-fixed", (string?)answer["compression"]!["mode"]);
        Assert.Equal(4, (int?)answer["compression"]!["k"]);
        Assert.Equal(2 * 729, (long?)answer["compression"]!["originalTokens"]);
        Assert.True((double?)answer["timings"]!["totalMs"] > 0);
        Assert.Equal("hit", (string?)answer["cache"]!["codebook"]);
        Assert.Equal("miss", (string?)answer["cache"]!["prefix"]);

        var (_, again) = await Client.AskAsync(id, new { question = "What happens?", maxNewTokens = 6 });
        Assert.Equal("hit", (string?)again["cache"]!["prefix"]);
        Assert.Equal((string?)answer["answer"], (string?)again["answer"]);
    }

    [Fact]
    public async Task Ask_streams_tokens_before_the_final_event()
    {
        var (_, body, _) = await Client.UploadAsync(TestVideos.Mp4(4), new Dictionary<string, string> { ["frames"] = "2" });
        var id = (string)body["id"]!;
        await Client.WaitProcessedAsync(id);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/videos/{id}/ask") { Content = JsonContent.Create(new { question = "Describe", maxNewTokens = 8 }) };
        request.Headers.Accept.ParseAdd("text/event-stream");
        using var response = await Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = await ServerSentEventReader.ReadAllAsync(await response.Content.ReadAsStreamAsync());
        Assert.True(events.Count >= 2, "expected token events and a done event");
        Assert.Equal("done", events[^1].Event);
        Assert.All(events.Take(events.Count - 1), e => Assert.Equal("token", e.Event));
        var done = JsonNode.Parse(events[^1].Data)!;
        var streamed = string.Concat(events.Take(events.Count - 1).Select(e => (string)JsonNode.Parse(e.Data)!["text"]!));
        Assert.Equal((string?)done["answer"], streamed);
    }

    [Fact]
    public async Task Events_stream_progress_until_ready()
    {
        var (_, body, _) = await Client.UploadAsync(TestVideos.Mp4(5), new Dictionary<string, string> { ["frames"] = "3" });
        var id = (string)body["id"]!;
        using var response = await Client.GetAsync($"/videos/{id}/events", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = await ServerSentEventReader.ReadAllAsync(await response.Content.ReadAsStreamAsync());
        Assert.Equal("ready", events[^1].Event);
        Assert.Equal("ready", (string?)JsonNode.Parse(events[^1].Data)!["status"]);
    }

    [Fact]
    public async Task Delete_removes_the_video()
    {
        var (_, body, _) = await Client.UploadAsync(TestVideos.Mp4(6), new Dictionary<string, string> { ["frames"] = "2" });
        var id = (string)body["id"]!;
        await Client.WaitProcessedAsync(id);
        Assert.Contains(Directory.GetFileSystemEntries(service.Factory.DataDirectory, "*", SearchOption.AllDirectories), p => p.Contains(id));
        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync($"/videos/{id}")).StatusCode);
        var gone = await Client.GetAsync($"/videos/{id}");
        ApiClient.AssertProblem(HttpStatusCode.NotFound, "urn:vqtoken:problem:not-found", gone.StatusCode, await ApiClient.BodyAsync(gone));
        var (askStatus, askBody) = await Client.AskAsync(id, new { question = "still there?" });
        ApiClient.AssertProblem(HttpStatusCode.NotFound, "urn:vqtoken:problem:not-found", askStatus, askBody);
        // Record, cache entry and stored source are gone (no file or folder of the store names the video).
        Assert.DoesNotContain(Directory.GetFileSystemEntries(service.Factory.DataDirectory, "*", SearchOption.AllDirectories), p => p.Contains(id));
    }

    [Fact]
    public async Task Not_a_video_is_rejected_as_unsupported_media()
    {
        var text = Path.Combine(service.Factory.DataDirectory, "not-a-video.mp4");
        Directory.CreateDirectory(service.Factory.DataDirectory);
        await File.WriteAllTextAsync(text, "this is plain text, not a video at all\n");
        var (status, body, _) = await Client.UploadAsync(text);
        ApiClient.AssertProblem(HttpStatusCode.UnsupportedMediaType, "urn:vqtoken:problem:unsupported-media", status, body);
    }

    [Fact]
    public async Task Invalid_settings_are_rejected_with_field_errors()
    {
        var (status, body, _) = await Client.UploadAsync(TestVideos.Mp4(7), new Dictionary<string, string> { ["frames"] = "0", ["compression"] = "zip" });
        ApiClient.AssertProblem(HttpStatusCode.BadRequest, "urn:vqtoken:problem:validation", status, body);
        Assert.NotNull(body["errors"]!["compression"]);
    }
}
