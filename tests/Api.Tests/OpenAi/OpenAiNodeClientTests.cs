using System.Net;
using System.Text.Json.Nodes;
using VQToken.Api.Tests.Infrastructure;
using VQToken.Api.Tests.Videos;

namespace VQToken.Api.Tests.OpenAi;

/// <summary>The official openai npm client (run by node) against the service on a real Kestrel port.</summary>
[Collection(KestrelServiceCollection.Name)]
public class OpenAiNodeClientTests(KestrelServiceFixture service)
{
    private const string Model = "vqtoken-llava-ov-0.5b";

    [Fact]
    public async Task Official_openai_client_creates_streams_and_fails_chat_completions()
    {
        var (uploadStatus, uploaded, _) = await service.Client.UploadAsync(TestVideos.Mp4(32), new Dictionary<string, string> { ["frames"] = "2", ["k"] = "4" });
        Assert.Equal(HttpStatusCode.Accepted, uploadStatus);
        var videoId = (string)uploaded["id"]!;
        Assert.Equal("ready", (string?)(await service.Client.WaitProcessedAsync(videoId))["status"]);
        var input = new JsonObject
        {
            ["apiKey"] = KestrelServiceFixture.ApiKey,
            ["model"] = Model,
            ["uploadedVideoUrl"] = $"vqtoken://videos/{videoId}",
            ["webVideoUrl"] = service.VideoServer.UrlOf("other.mp4").ToString(),
            ["question"] = "What happens in this video?",
            ["maxTokens"] = 6,
        };

        var result = await NodeOpenAiClient.RunAsync(new Uri(service.Address, "/v1"), input);

        // 1. Non-streaming: the client's ChatCompletion, and the same answer as a plain HTTP request gets.
        var completion = OpenAiSchema.Object(result["completion"], "completion");
        var answer = OpenAiSchema.AssertCompletion(completion, Model);
        Assert.Equal(videoId, (string?)completion["vqtoken"]?["video_id"]);
        var (_, direct, _) = await service.Client.CompleteAsync(new JsonObject
        {
            ["model"] = Model,
            ["messages"] = new JsonArray(
                new JsonObject { ["role"] = "system", ["content"] = "Answer briefly." },
                new JsonObject { ["role"] = "user", ["content"] = new JsonArray(
                    ChatCompletionsClient.VideoUrlPart($"vqtoken://videos/{videoId}"),
                    new JsonObject { ["type"] = "text", ["text"] = "What happens in this video?" }) }),
            ["max_tokens"] = 6,
            ["temperature"] = 0,
        });
        Assert.Equal((string?)direct["choices"]![0]!["message"]!["content"], answer);

        // 2. Streaming through `for await`: role chunk, content, finish reason, then the usage chunk.
        var chunks = OpenAiSchema.Array(result, "chunks");
        Assert.True(chunks.Count >= 3, chunks.ToJsonString());
        var first = OpenAiSchema.Object(chunks[0], "chunks[0]");
        Assert.Equal("chat.completion.chunk", (string?)first["object"]);
        Assert.Equal("assistant", (string?)first["choices"]![0]!["delta"]!["role"]);
        var finish = OpenAiSchema.Object(chunks[^2], "finish chunk");
        Assert.Contains((string?)finish["choices"]![0]!["finish_reason"], new[] { "stop", "length" });
        var last = OpenAiSchema.Object(chunks[^1], "usage chunk");
        Assert.Empty(OpenAiSchema.Array(last, "choices"));
        var usage = OpenAiSchema.Object(last["usage"], "usage");
        Assert.Equal(OpenAiSchema.Integer(usage, "prompt_tokens") + OpenAiSchema.Integer(usage, "completion_tokens"), OpenAiSchema.Integer(usage, "total_tokens"));
        var webVideoId = (string?)finish["vqtoken"]?["video_id"];
        Assert.False(string.IsNullOrEmpty(webVideoId));
        Assert.NotEqual(videoId, webVideoId);
        Assert.Equal("url", (string?)(await ApiClient.BodyAsync(await service.Client.GetAsync($"/videos/{webVideoId}")))["source"]!["kind"]);

        // 3. n = 2: the client raises BadRequestError carrying the service's message, param and code; a wrong key, AuthenticationError.
        var error = OpenAiSchema.Object(result["error"], "error (the client did not throw)");
        Assert.True((bool?)error["isBadRequest"], error.ToJsonString());
        Assert.Equal(400, (int?)error["status"]);
        Assert.Contains("only n = 1 is supported", (string?)error["message"]);
        Assert.Equal("invalid_request_error", (string?)error["type"]);
        Assert.Equal("n", (string?)error["param"]);
        Assert.Equal("validation", (string?)error["code"]);

        var authError = OpenAiSchema.Object(result["authError"], "authError (the client did not throw)");
        Assert.True((bool?)authError["isAuthentication"], authError.ToJsonString());
        Assert.Equal(401, (int?)authError["status"]);
        Assert.Contains("API key", (string?)authError["message"]);

        // 4. The model list.
        Assert.Equal(new[] { Model }, OpenAiSchema.Array(result, "models").Select(m => m?.ToString()).ToArray());
    }
}
