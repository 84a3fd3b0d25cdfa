using System.Net;
using System.Text.Json.Nodes;
using VQToken.Api.Tests.Videos;

namespace VQToken.Api.Tests.OpenAi;

/// <summary>Videos named by an http URL: fetched from a web server on 127.0.0.1 (allowed here by
/// Video:Url:AllowPrivateAddresses=true; the default refuses it, see ChatCompletionsTests).</summary>
[Collection(KestrelServiceCollection.Name)]
public class ChatCompletionsUrlTests(KestrelServiceFixture service)
{
    private const string Model = "vqtoken-llava-ov-0.5b";

    [Fact]
    public async Task Url_video_is_fetched_processed_answered_and_reused_when_streamed()
    {
        var url = service.VideoServer.UrlOf("clip.mp4").ToString();
        var request = ChatCompletionsClient.Ask(ChatCompletionsClient.VideoUrlPart(url), "What is in the video?", maxTokens: 5);

        var (status, body, _) = await service.Client.CompleteAsync(request);

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        var answer = OpenAiSchema.AssertCompletion(body, Model);
        var videoId = (string)body["vqtoken"]!["video_id"]!;
        var video = await ApiClient.BodyAsync(await service.Client.GetAsync($"/videos/{videoId}"));
        Assert.Equal("url", (string?)video["source"]!["kind"]);
        Assert.Equal(url, (string?)video["source"]!["location"]);
        Assert.Equal("ready", (string?)video["status"]);

        request["stream"] = true;
        request["stream_options"] = new JsonObject { ["include_usage"] = true };
        var (raw, events, response) = await service.Client.StreamAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(answer, OpenAiSchema.AssertStream(raw, events, Model, includeUsage: true));
        Assert.Equal(videoId, (string?)JsonNode.Parse(events[^3].Data)!["vqtoken"]!["video_id"]);   // same bytes: the same video
    }

    [Fact]
    public async Task Missing_url_video_is_a_502_problem()
    {
        var request = ChatCompletionsClient.Ask(ChatCompletionsClient.VideoUrlPart(service.VideoServer.UrlOf("missing.mp4").ToString()));

        var (status, body, response) = await service.Client.CompleteAsync(request);

        OpenAiSchema.AssertError(HttpStatusCode.BadGateway, "urn:vqtoken:problem:url-unreachable", "server_error", status, body, response);
    }
}
