using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using SkiaSharp;
using VQToken.Api.Ask;
using VQToken.Engine.Output;
using VQToken.Api.Tests.Infrastructure;
using VQToken.Api.Tests.Videos;
using VQToken.Api.Videos.Clusters;

namespace VQToken.Api.Tests.Ask;

/// <summary><c>"evidence": true</c> on an ask: frames with their times and scores, visual tokens with their mass and
/// cells, the visual share, and a heat picture behind a link; nothing of it without the flag.</summary>
public class AnswerEvidenceApiTests(VideosApiFixture service) : IClassFixture<VideosApiFixture>
{
    private const int Grid = 27;
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
    private HttpClient Client => service.Client;

    [Theory]
    [InlineData("codebook", 102)]
    [InlineData("attention", 103)]
    [InlineData("full", 104)]
    public async Task Ask_with_evidence_scores_every_sampled_frame_at_its_time_top_first_and_links_a_heat_picture(string path, int variant)
    {
        var fields = path switch
        {
            "full" => new Dictionary<string, string> { ["frames"] = "3", ["compression"] = "full" },
            _ => new Dictionary<string, string> { ["frames"] = "3", ["k"] = "4", ["tokens"] = path },
        };
        var (id, video) = await ReadyVideoAsync(variant, fields);
        var times = video["frameTimes"]!.AsArray().Select(t => (double)t!).ToArray();
        Assert.Equal([0.0, 0.9, 1.9], times);

        var (status, answer) = await Client.AskAsync(id, new { question = "Where is the colour?", maxNewTokens = 4, evidence = true });

        Assert.True(status == HttpStatusCode.OK, answer.ToJsonString());
        var evidence = answer["evidence"]!.AsObject();
        double share = (double)evidence["visualShare"]!;
        Assert.InRange(share, 1e-9, 1.0);
        var frames = evidence["frames"]!.AsArray().Select(f => f!.AsObject()).ToList();
        Assert.Equal([0, 1, 2], frames.Select(f => (int)f["index"]!).Order());
        Assert.All(frames, f => Assert.Equal(times[(int)f["index"]!], (double)f["time"]!));
        var scores = frames.Select(f => (double)f["score"]!).ToList();
        Assert.All(scores, s => Assert.True(s >= 0));
        Assert.Equal(scores.OrderDescending(), scores);                              // top first

        // One entry per visual token but image_newline; the frames share exactly the mass of the tokens with cells,
        // and all of it lies within the visual share (the newline's mass is the rest).
        var clusters = evidence["clusters"]!.AsArray().Select(c => c!.AsObject()).ToList();
        Assert.Equal((int)answer["usage"]!["visualTokens"]! - 1, clusters.Count);
        Assert.Equal(Enumerable.Range(0, clusters.Count), clusters.Select(c => (int)c["index"]!));
        double placed = clusters.Where(c => (int)c["cells"]! > 0).Sum(c => (double)c["mass"]!);
        Assert.Equal(placed, scores.Sum(), 9);
        Assert.True(clusters.Sum(c => (double)c["mass"]!) <= share + 1e-9, "the tokens hold more than the visual share");
        var cells = clusters.Select(c => (int)c["cells"]!).ToList();
        switch (path)
        {
            case "codebook": Assert.Equal(3 * Grid * Grid, cells.Sum()); break;          // every cell in exactly one cluster
            case "attention": Assert.All(cells, c => Assert.Equal(Grid * Grid, c)); break;  // each row stands for a whole frame
            default: Assert.All(cells, c => Assert.InRange(c, 1, 4)); break;              // bilinear 2x pooling reads 1-4 cells
        }

        var picture = (string)evidence["picture"]!;
        Assert.Matches(new Regex($"^/videos/{id}/evidence/[0-9a-f]{{32}}\\.png$"), picture);
        using var response = await Client.GetAsync(picture);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("frames", response.Headers.GetValues("X-Evidence-Background").Single());
        var png = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(PngSignature, png.Take(8));
        using var image = SKBitmap.Decode(png);
        Assert.Equal((3 * (Grid * 8 + 4) + 4, Grid * 8 + ClusterPicture.CaptionHeight + 8), (image.Width, image.Height));
    }

    [Fact]
    public async Task Ask_without_evidence_has_no_evidence_field()
    {
        var (id, _) = await ReadyVideoAsync(105, new Dictionary<string, string> { ["frames"] = "2", ["k"] = "4" });

        var (status, answer) = await Client.AskAsync(id, new { question = "What happens?", maxNewTokens = 3 });
        var (_, explicitlyOff) = await Client.AskAsync(id, new { question = "What happens?", maxNewTokens = 3, evidence = false });

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.False(answer.ContainsKey("evidence"), answer.ToJsonString());
        Assert.False(explicitlyOff.ContainsKey("evidence"), explicitlyOff.ToJsonString());
        Assert.Equal((string?)answer["answer"], (string?)explicitlyOff["answer"]);
    }

    [Fact]
    public async Task Streamed_ask_with_evidence_carries_it_in_the_done_event_as_the_plain_ask_gives_it()
    {
        var (id, _) = await ReadyVideoAsync(106, new Dictionary<string, string> { ["frames"] = "2", ["k"] = "4" });
        var question = new { question = "Describe it", maxNewTokens = 5, evidence = true };
        var (_, plain) = await Client.AskAsync(id, question);

        using var request = new HttpRequestMessage(HttpMethod.Post, $"/videos/{id}/ask") { Content = JsonContent.Create(question) };
        request.Headers.Accept.ParseAdd("text/event-stream");
        using var response = await Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var events = await ServerSentEventReader.ReadAllAsync(await response.Content.ReadAsStreamAsync());

        Assert.Equal("done", events[^1].Event);
        Assert.All(events.Take(events.Count - 1), e => Assert.DoesNotContain("evidence", e.Data));
        var done = JsonNode.Parse(events[^1].Data)!.AsObject();
        Assert.Equal((string?)plain["answer"], (string?)done["answer"]);
        var streamed = done["evidence"]!.AsObject();
        var expected = plain["evidence"]!.AsObject();
        Assert.Equal((double)expected["visualShare"]!, (double)streamed["visualShare"]!, 6);
        Assert.Equal(Frames(expected).Select(f => f.Index), Frames(streamed).Select(f => f.Index));
        Assert.Equal(Frames(expected).Select(f => f.Score), Frames(streamed).Select(f => f.Score), (a, b) => Math.Abs(a - b) < 1e-6);
        Assert.NotEqual((string?)expected["picture"], (string?)streamed["picture"]);   // each answer keeps its own
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync((string)streamed["picture"]!)).StatusCode);
    }

    [Fact]
    public async Task Ask_ended_by_a_stop_string_has_the_evidence_of_its_tokens_up_to_the_stop_plain_and_streamed()
    {
        var (id, _) = await ReadyVideoAsync(108, new Dictionary<string, string> { ["frames"] = "2", ["k"] = "4" });
        const string Question = "Tell me about it";
        var (_, whole) = await Client.AskAsync(id, new { question = Question, maxNewTokens = 8, evidence = true });
        var text = (string)whole["answer"]!;
        // A one-character stop string that first occurs after the answer's start, so something is left before it.
        int at = Enumerable.Range(1, Math.Max(0, text.Length - 1)).First(i => text.IndexOf(text[i]) == i);
        string stop = text[at..(at + 1)];

        var (status, stopped) = await Client.AskAsync(id, new { question = Question, maxNewTokens = 8, stop = new[] { stop }, evidence = true });

        Assert.True(status == HttpStatusCode.OK, stopped.ToJsonString());
        Assert.Equal("stop", (string?)stopped["finishReason"]);
        Assert.Equal(text[..at], (string?)stopped["answer"]);
        int tokens = (int)stopped["usage"]!["completionTokens"]!;
        Assert.InRange(tokens, 1, (int)whole["usage"]!["completionTokens"]!);
        var evidence = stopped["evidence"]!.AsObject();
        Assert.Equal(tokens, (int)evidence["answerTokens"]!);   // up to the token that completed the stop string
        // The same tokens ended by their count: the same evidence.
        var (_, limited) = await Client.AskAsync(id, new { question = Question, maxNewTokens = tokens, evidence = true });
        Assert.StartsWith(text[..at] + stop, (string)limited["answer"]!);
        AssertSameEvidence(limited["evidence"]!.AsObject(), evidence);
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync((string)evidence["picture"]!)).StatusCode);

        using var request = new HttpRequestMessage(HttpMethod.Post, $"/videos/{id}/ask")
        {
            Content = JsonContent.Create(new { question = Question, maxNewTokens = 8, stop = new[] { stop }, evidence = true, stream = true }),
        };
        using var response = await Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var events = await ServerSentEventReader.ReadAllAsync(await response.Content.ReadAsStreamAsync());
        Assert.Equal("done", events[^1].Event);
        var done = JsonNode.Parse(events[^1].Data)!.AsObject();
        Assert.Equal(text[..at], (string?)done["answer"]);
        Assert.Equal("stop", (string?)done["finishReason"]);
        AssertSameEvidence(evidence, done["evidence"]!.AsObject());
    }

    [Fact]
    public async Task Evidence_picture_of_an_unknown_id_video_or_deleted_video_is_a_404_problem()
    {
        var (id, _) = await ReadyVideoAsync(107, new Dictionary<string, string> { ["frames"] = "2", ["k"] = "4" });
        var (_, answer) = await Client.AskAsync(id, new { question = "What happens?", maxNewTokens = 2, evidence = true });
        var picture = (string)answer["evidence"]!["picture"]!;
        var evidenceId = picture.Split('/')[^1][..^4];

        foreach (var unknown in new[]
        {
            $"/videos/{id}/evidence/{new string('a', 32)}.png",        // well-formed, never issued
            $"/videos/{id}/evidence/not-an-evidence-id.png",
            $"/videos/01jz8k3q4m5n6p7r8s9t0v1w2x/evidence/{evidenceId}.png",   // issued for another video
        })
        {
            var response = await Client.GetAsync(unknown);
            ApiClient.AssertProblem(HttpStatusCode.NotFound, "urn:vqtoken:problem:not-found", response.StatusCode, await ApiClient.BodyAsync(response));
        }

        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync(picture)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync($"/videos/{id}")).StatusCode);
        var gone = await Client.GetAsync(picture);
        ApiClient.AssertProblem(HttpStatusCode.NotFound, "urn:vqtoken:problem:not-found", gone.StatusCode, await ApiClient.BodyAsync(gone));
    }

    [Fact]
    public void Evidence_store_keeps_recent_answers_under_its_byte_budget_for_their_owner_only_and_none_at_zero()
    {
        var measured = new AnswerEvidence(0.5, [new FrameEvidence(0, null, 0.4)], [new VisualTokenEvidence(0, 0.4, 4)], new double[250], Grid: 5);
        // 250 cells of 4 bytes + 256 bytes of bookkeeping each: room for two.
        var store = new AnswerEvidenceStore(Options.Create(new AskOptions { EvidenceCacheBytes = 2 * (250 * 4 + 256) }));

        var first = store.Add("alice", "video-a", measured, [1.5])!;
        var second = store.Add("alice", "video-a", measured, null)!;
        Assert.True(AnswerEvidenceStore.IsId(first));
        Assert.NotEqual(first, second);
        Assert.Equal([1.5], store.Get("alice", "video-a", first)!.FrameTimes);
        Assert.Null(store.Get("bob", "video-a", first));                // another owner
        Assert.Null(store.Get("alice", "video-b", first));              // another video
        var third = store.Add("alice", "video-a", measured, null)!;     // pushes out the least recently used: second
        Assert.NotNull(store.Get("alice", "video-a", first));
        Assert.Null(store.Get("alice", "video-a", second));
        Assert.NotNull(store.Get("alice", "video-a", third));
        store.Forget("video-a");
        Assert.Null(store.Get("alice", "video-a", first));

        var off = new AnswerEvidenceStore(Options.Create(new AskOptions { EvidenceCacheBytes = 0 }));
        Assert.False(off.Enabled);
        Assert.Null(off.Add("alice", "video-a", measured, null));
    }

    private static void AssertSameEvidence(JsonObject expected, JsonObject actual)
    {
        Assert.Equal((int)expected["answerTokens"]!, (int)actual["answerTokens"]!);
        Assert.Equal((double)expected["visualShare"]!, (double)actual["visualShare"]!, 6);
        Assert.Equal(Frames(expected).Select(f => f.Index), Frames(actual).Select(f => f.Index));
        Assert.Equal(Frames(expected).Select(f => f.Score), Frames(actual).Select(f => f.Score), (a, b) => Math.Abs(a - b) < 1e-6);
    }

    private static List<(int Index, double Score)> Frames(JsonObject evidence) =>
        evidence["frames"]!.AsArray().Select(f => ((int)f!["index"]!, (double)f["score"]!)).ToList();

    private async Task<(string Id, JsonObject Video)> ReadyVideoAsync(int variant, Dictionary<string, string> fields)
    {
        var (status, body, _) = await Client.UploadAsync(TestVideos.Mp4(variant), fields);
        Assert.True(status == HttpStatusCode.Accepted, body.ToJsonString());
        var id = (string)body["id"]!;
        var video = await Client.WaitProcessedAsync(id);
        Assert.True((string?)video["status"] == "ready", video.ToJsonString());
        return (id, video);
    }
}
