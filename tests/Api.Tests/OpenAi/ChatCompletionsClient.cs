using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using VQToken.Api.Tests.Videos;

namespace VQToken.Api.Tests.OpenAi;

/// <summary>Sends chat completion requests as raw JSON (the wire format, not our DTOs) and reads the answers.</summary>
public static class ChatCompletionsClient
{
    public const string Path = "/v1/chat/completions";

    /// <summary>A request asking <paramref name="question"/> about the video in <paramref name="videoPart"/>.</summary>
    public static JsonObject Ask(JsonNode videoPart, string question = "What happens in this video?", int maxTokens = 6) => new()
    {
        ["model"] = "vqtoken-llava-ov-0.5b",
        ["messages"] = new JsonArray(new JsonObject
        {
            ["role"] = "user",
            ["content"] = new JsonArray(videoPart, new JsonObject { ["type"] = "text", ["text"] = question }),
        }),
        ["max_tokens"] = maxTokens,
        ["temperature"] = 0,
    };

    public static JsonObject VideoUrlPart(string url) => new() { ["type"] = "video_url", ["video_url"] = new JsonObject { ["url"] = url } };

    public static async Task<(HttpStatusCode Status, JsonObject Body, HttpResponseMessage Response)> CompleteAsync(this HttpClient client, JsonNode body)
    {
        var response = await client.PostAsync(Path, new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        return (response.StatusCode, await ApiClient.BodyAsync(response), response);
    }

    /// <summary>Posts a streaming request; the raw event-stream text and its events.</summary>
    public static async Task<(string Raw, List<ServerSentEventReader.ServerSentEvent> Events, HttpResponseMessage Response)> StreamAsync(this HttpClient client, JsonNode body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Path) { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var raw = await response.Content.ReadAsStringAsync();
        var events = await ServerSentEventReader.ReadAllAsync(new MemoryStream(Encoding.UTF8.GetBytes(raw)));
        return (raw, events, response);
    }
}
