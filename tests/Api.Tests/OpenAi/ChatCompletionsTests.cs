using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using VQToken.Api.Tests.Infrastructure;
using VQToken.Api.Tests.Videos;
using VQToken.Api.Videos;

namespace VQToken.Api.Tests.OpenAi;

public class ChatCompletionsTests(ChatCompletionsFixture service) : IClassFixture<ChatCompletionsFixture>
{
    private const string Model = "vqtoken-llava-ov-0.5b";
    private const string ValidationProblem = "urn:vqtoken:problem:validation";
    private HttpClient Client => service.Client;

    [Theory]
    [InlineData("video_part")]
    [InlineData("vqtoken_url")]
    [InlineData("top_level_video_id")]
    public async Task Uploaded_video_is_answered_in_the_OpenAI_schema_whichever_form_names_it(string form)
    {
        var id = service.VideoId;
        var request = form switch
        {
            "video_part" => ChatCompletionsClient.Ask(new JsonObject { ["type"] = "video", ["video_id"] = id }),
            "vqtoken_url" => ChatCompletionsClient.Ask(ChatCompletionsClient.VideoUrlPart($"vqtoken://videos/{id}")),
            _ => TextOnly("What happens in this video?", id),
        };
        request["frequency_penalty"] = 0.5;             // unknown to the service: ignored
        request["user"] = "someone";

        var (status, body, _) = await Client.CompleteAsync(request);

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        OpenAiSchema.AssertCompletion(body, Model);
        var vqtoken = OpenAiSchema.Object(body["vqtoken"], "vqtoken");
        Assert.Equal(id, (string?)vqtoken["video_id"]);
        Assert.Equal(4 + 1, (int?)vqtoken["visual_tokens"]);
        Assert.Equal("vqtoken-fixed", (string?)vqtoken["compression"]!["mode"]);
        Assert.Equal("codebook", (string?)vqtoken["compression"]!["tokens"]);
        Assert.Null(vqtoken["compression"]!["elbow"]);                          // fixed K: no elbow rule
        Assert.True((long?)body["usage"]!["prompt_tokens"] > 5);
        Assert.InRange((long)body["usage"]!["completion_tokens"]!, 1, 6);
    }

    [Fact]
    public async Task Streamed_answer_has_role_content_finish_usage_and_done_and_matches_the_plain_answer()
    {
        var request = ChatCompletionsClient.Ask(ChatCompletionsClient.VideoUrlPart($"vqtoken://videos/{service.VideoId}"), "Describe the colours", maxTokens: 8);
        var (_, plain, _) = await Client.CompleteAsync(request);
        var expected = OpenAiSchema.AssertCompletion(plain, Model);

        request["stream"] = true;
        request["stream_options"] = new JsonObject { ["include_usage"] = true };
        var (raw, events, response) = await Client.StreamAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var streamed = OpenAiSchema.AssertStream(raw, events, Model, includeUsage: true);
        Assert.Equal(expected, streamed);
        var usage = JsonNode.Parse(events[^2].Data)!["usage"]!;
        Assert.Equal((long?)plain["usage"]!["completion_tokens"], (long?)usage["completion_tokens"]);
        Assert.Equal((long?)plain["usage"]!["prompt_tokens"], (long?)usage["prompt_tokens"]);
    }

    [Fact]
    public async Task Streamed_answer_without_include_usage_ends_with_the_finish_chunk()
    {
        var request = ChatCompletionsClient.Ask(new JsonObject { ["type"] = "video", ["video_id"] = service.VideoId });
        request["stream"] = true;

        var (raw, events, response) = await Client.StreamAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        OpenAiSchema.AssertStream(raw, events, Model, includeUsage: false);
        Assert.Equal(service.VideoId, (string?)JsonNode.Parse(events[^2].Data)!["vqtoken"]!["video_id"]);
    }

    [Fact]
    public async Task Vqtoken_evidence_extension_adds_evidence_to_the_completion_and_to_the_streamed_finish_chunk()
    {
        var request = ChatCompletionsClient.Ask(new JsonObject { ["type"] = "video", ["video_id"] = service.VideoId }, maxTokens: 4);
        var (_, without, _) = await Client.CompleteAsync(request);
        Assert.False(OpenAiSchema.Object(without["vqtoken"], "vqtoken").ContainsKey("evidence"), without.ToJsonString());

        request["vqtoken"] = new JsonObject { ["evidence"] = true };
        var (status, body, _) = await Client.CompleteAsync(request);

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.Equal(OpenAiSchema.AssertCompletion(without, Model), OpenAiSchema.AssertCompletion(body, Model));   // the same answer
        var vqtoken = OpenAiSchema.Object(body["vqtoken"], "vqtoken");
        var evidence = OpenAiSchema.Object(vqtoken["evidence"], "vqtoken.evidence");
        Assert.InRange((double)evidence["visual_share"]!, 1e-9, 1.0);
        var video = await ApiClient.BodyAsync(await Client.GetAsync($"/videos/{service.VideoId}"));
        var times = video["frameTimes"]!.AsArray().Select(t => (double)t!).ToArray();
        var frames = evidence["frames"]!.AsArray();
        Assert.Equal(times.Length, frames.Count);
        Assert.All(frames, f => Assert.Equal(times[(int)f!["index"]!], (double)f["time"]!));
        Assert.Equal((int)vqtoken["visual_tokens"]! - 1, evidence["clusters"]!.AsArray().Count);
        var picture = await Client.GetAsync((string)evidence["picture"]!);
        Assert.Equal("image/png", picture.Content.Headers.ContentType?.MediaType);

        request["stream"] = true;
        var (raw, events, response) = await Client.StreamAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        OpenAiSchema.AssertStream(raw, events, Model, includeUsage: false);
        Assert.All(events.Take(events.Count - 2), e => Assert.DoesNotContain("evidence", e.Data));
        var streamed = JsonNode.Parse(events[^2].Data)!["vqtoken"]!["evidence"]!;
        Assert.Equal(frames.Select(f => (int)f!["index"]!), streamed["frames"]!.AsArray().Select(f => (int)f!["index"]!));
    }

    [Fact]
    public async Task Vqtoken_evidence_of_an_answer_ended_by_a_stop_string_covers_its_tokens_up_to_the_stop()
    {
        var request = ChatCompletionsClient.Ask(new JsonObject { ["type"] = "video", ["video_id"] = service.VideoId }, "Tell me a story", maxTokens: 8);
        request["vqtoken"] = new JsonObject { ["evidence"] = true };
        var (_, whole, _) = await Client.CompleteAsync(request);
        var text = OpenAiSchema.AssertCompletion(whole, Model);
        int at = Enumerable.Range(1, Math.Max(0, text.Length - 1)).First(i => text.IndexOf(text[i]) == i);
        request["stop"] = text[at..(at + 1)];

        var (status, stopped, _) = await Client.CompleteAsync(request);

        Assert.True(status == HttpStatusCode.OK, stopped.ToJsonString());
        Assert.Equal(text[..at], OpenAiSchema.AssertCompletion(stopped, Model));
        Assert.Equal("stop", (string?)stopped["choices"]![0]!["finish_reason"]);
        int tokens = (int)stopped["usage"]!["completion_tokens"]!;
        var evidence = stopped["vqtoken"]!["evidence"]!.AsObject();
        Assert.Equal(tokens, (int)evidence["answer_tokens"]!);
        var limitedRequest = ChatCompletionsClient.Ask(new JsonObject { ["type"] = "video", ["video_id"] = service.VideoId }, "Tell me a story", maxTokens: tokens);
        limitedRequest["vqtoken"] = new JsonObject { ["evidence"] = true };
        var (_, limited, _) = await Client.CompleteAsync(limitedRequest);
        var expected = limited["vqtoken"]!["evidence"]!.AsObject();
        Assert.Equal(tokens, (int)expected["answer_tokens"]!);
        Assert.Equal((double)expected["visual_share"]!, (double)evidence["visual_share"]!, 6);
        Assert.Equal(Scores(expected), Scores(evidence), (a, b) => a.Index == b.Index && Math.Abs(a.Score - b.Score) < 1e-6);

        request["stream"] = true;
        var (raw, events, response) = await Client.StreamAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(text[..at], OpenAiSchema.AssertStream(raw, events, Model, includeUsage: false));
        var streamed = JsonNode.Parse(events[^2].Data)!["vqtoken"]!["evidence"]!.AsObject();
        Assert.Equal(tokens, (int)streamed["answer_tokens"]!);
        Assert.Equal(Scores(evidence), Scores(streamed), (a, b) => a.Index == b.Index && Math.Abs(a.Score - b.Score) < 1e-6);

        static List<(int Index, double Score)> Scores(JsonObject e) => e["frames"]!.AsArray().Select(f => ((int)f!["index"]!, (double)f["score"]!)).ToList();
    }

    [Fact]
    public async Task Conversation_with_system_and_assistant_turns_is_answered_and_the_model_echoed()
    {
        var request = new JsonObject
        {
            ["model"] = "my-own-name",
            ["video_id"] = service.VideoId,
            ["messages"] = new JsonArray(
                new JsonObject { ["role"] = "system", ["content"] = "Answer briefly." },
                new JsonObject { ["role"] = "user", ["content"] = "What is shown?" },
                new JsonObject { ["role"] = "assistant", ["content"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = "A test pattern." }) },
                new JsonObject { ["role"] = "user", ["content"] = "And the colours?" }),
            ["max_completion_tokens"] = 3,
            ["stop"] = "\n\n\n",
            ["seed"] = 7,
            ["n"] = 1,
        };

        var (status, body, _) = await Client.CompleteAsync(request);

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        OpenAiSchema.AssertCompletion(body, "my-own-name");
        Assert.InRange((long)body["usage"]!["completion_tokens"]!, 1, 3);
    }

    public static TheoryData<string, string, string> InvalidRequests => new()
    {
        { "no video", """{"model":"m","messages":[{"role":"user","content":"What happens?"}]}""", "messages" },
        { "two videos", """{"model":"m","video_id":"VIDEO","messages":[{"role":"user","content":[{"type":"video","video_id":"VIDEO"},{"type":"text","text":"?"}]}]}""", "messages" },
        { "n = 2", """{"model":"m","video_id":"VIDEO","n":2,"messages":[{"role":"user","content":"?"}]}""", "n" },
        { "temperature 3", """{"model":"m","video_id":"VIDEO","temperature":3,"messages":[{"role":"user","content":"?"}]}""", "temperature" },
        { "empty messages", """{"model":"m","video_id":"VIDEO","messages":[]}""", "messages" },
        { "no messages", """{"model":"m","video_id":"VIDEO"}""", "messages" },
        { "max_tokens 0", """{"model":"m","video_id":"VIDEO","max_tokens":0,"messages":[{"role":"user","content":"?"}]}""", "max_tokens" },
        { "top_p 0", """{"model":"m","video_id":"VIDEO","top_p":0,"messages":[{"role":"user","content":"?"}]}""", "top_p" },
        { "stop of numbers", """{"model":"m","video_id":"VIDEO","stop":[1,2],"messages":[{"role":"user","content":"?"}]}""", "stop" },
        { "assistant last", """{"model":"m","video_id":"VIDEO","messages":[{"role":"user","content":"?"},{"role":"assistant","content":"!"}]}""", "messages" },
        { "tool role", """{"model":"m","video_id":"VIDEO","messages":[{"role":"tool","content":"x"},{"role":"user","content":"?"}]}""", "messages[0].role" },
        { "late system message", """{"model":"m","video_id":"VIDEO","messages":[{"role":"user","content":"?"},{"role":"system","content":"x"},{"role":"user","content":"?"}]}""", "messages[1].role" },
        { "image part", """{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/a.png"}},{"type":"video","video_id":"VIDEO"}]}]}""", "messages[0].content[0]" },
        { "video in a system message", """{"model":"m","messages":[{"role":"system","content":[{"type":"video","video_id":"VIDEO"}]},{"role":"user","content":"?"}]}""", "messages[0].content[0]" },
        { "ftp video url", """{"model":"m","messages":[{"role":"user","content":[{"type":"video_url","video_url":{"url":"ftp://example.com/v.mp4"}}]}]}""", "messages[0].content[0]" },
        { "content of a number", """{"model":"m","video_id":"VIDEO","messages":[{"role":"user","content":42}]}""", "messages[0].content" },
    };

    [Theory]
    [MemberData(nameof(InvalidRequests))]
    public async Task Invalid_request_is_a_400_problem_with_an_openai_error_naming_the_field(string name, string json, string field)
    {
        var (status, body, response) = await Client.CompleteAsync(JsonNode.Parse(json.Replace("VIDEO", service.VideoId))!);

        var error = OpenAiSchema.AssertError(HttpStatusCode.BadRequest, ValidationProblem, "invalid_request_error", status, body, response);
        Assert.True(body["errors"]?[field] is JsonArray { Count: > 0 }, $"{name}: expected an error for '{field}' in {body.ToJsonString()}");
        Assert.Equal(field, (string?)error["param"]);
        Assert.Equal("validation", (string?)error["code"]);
    }

    [Fact]
    public async Task Malformed_json_is_a_400_problem()
    {
        var response = await Client.PostAsync(ChatCompletionsClient.Path, new StringContent("{\"messages\": [", System.Text.Encoding.UTF8, "application/json"));
        OpenAiSchema.AssertError(HttpStatusCode.BadRequest, ValidationProblem, "invalid_request_error", response.StatusCode, await ApiClient.BodyAsync(response), response);
    }

    [Fact]
    public async Task Unknown_video_is_a_404_problem()
    {
        var (status, body, response) = await Client.CompleteAsync(TextOnly("?", "0123456789abcdefghjkmnpqrs"));
        OpenAiSchema.AssertError(HttpStatusCode.NotFound, "urn:vqtoken:problem:not-found", "not_found_error", status, body, response);
        var (badStatus, badBody, badResponse) = await Client.CompleteAsync(ChatCompletionsClient.Ask(ChatCompletionsClient.VideoUrlPart("vqtoken://videos/../etc")));
        OpenAiSchema.AssertError(HttpStatusCode.NotFound, "urn:vqtoken:problem:not-found", "not_found_error", badStatus, badBody, badResponse);
    }

    [Fact]
    public async Task Failed_video_is_a_409_problem_with_the_reason()
    {
        var (_, uploaded, _) = await Client.UploadAsync(TestVideos.Mp4(22), new Dictionary<string, string> { ["frames"] = "2" });
        var id = (string)uploaded["id"]!;
        await Client.WaitProcessedAsync(id);
        // Processing cannot be made to fail on demand: mark the video failed in the store.
        await service.Factory.Services.GetRequiredService<IVideoStore>().UpdateAsync(id, r => r with { Status = VideoStatus.Failed, Reason = "decoder exploded" });

        var (status, body, response) = await Client.CompleteAsync(TextOnly("?", id));

        var error = OpenAiSchema.AssertError(HttpStatusCode.Conflict, "urn:vqtoken:problem:video-failed", "invalid_request_error", status, body, response);
        Assert.Equal("The video failed to process: decoder exploded", (string?)error["message"]);
    }

    [Fact]
    public async Task Loopback_video_url_is_refused_with_default_settings_without_a_request()
    {
        await using var server = await LocalVideoServer.StartAsync(new Dictionary<string, string> { ["clip.mp4"] = TestVideos.Mp4(21) });

        var (status, body, response) = await Client.CompleteAsync(ChatCompletionsClient.Ask(ChatCompletionsClient.VideoUrlPart(server.UrlOf("clip.mp4").ToString())));

        var error = OpenAiSchema.AssertError(HttpStatusCode.BadRequest, "urn:vqtoken:problem:url-refused", "invalid_request_error", status, body, response);
        Assert.Equal("url-refused", (string?)error["code"]);
        Assert.Equal(0, server.Requests);
    }

    [Fact]
    public async Task Models_lists_the_one_model()
    {
        var list = await ApiClient.BodyAsync(await Client.GetAsync("/v1/models"));
        Assert.Equal("list", (string?)list["object"]);
        var model = OpenAiSchema.Object(Assert.Single(OpenAiSchema.Array(list, "data")), "data[0]");
        Assert.Equal(Model, OpenAiSchema.String(model, "id"));
        Assert.Equal("model", OpenAiSchema.String(model, "object"));
        Assert.True(OpenAiSchema.Integer(model, "created") > 0);
        Assert.False(string.IsNullOrEmpty(OpenAiSchema.String(model, "owned_by")));

        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync($"/v1/models/{Model}")).StatusCode);
        var missing = await Client.GetAsync("/v1/models/gpt-4o");
        OpenAiSchema.AssertError(HttpStatusCode.NotFound, "urn:vqtoken:problem:not-found", "not_found_error", missing.StatusCode, await ApiClient.BodyAsync(missing), missing);
    }

    [Fact]
    public async Task OpenApi_document_describes_chat_completions_with_a_request_example()
    {
        var document = await ApiClient.BodyAsync(await Client.GetAsync("/swagger/v1/swagger.json"));
        var operation = OpenAiSchema.Object(document["paths"]?["/v1/chat/completions"]?["post"], "paths./v1/chat/completions.post");
        Assert.Contains("Chat Completions", OpenAiSchema.String(operation, "summary"));
        Assert.Contains("video_url", OpenAiSchema.String(operation, "description"));
        var schemaRef = (string?)operation["requestBody"]?["content"]?["application/json"]?["schema"]?["$ref"];
        Assert.Equal("#/components/schemas/ChatCompletionRequest", schemaRef);
        var properties = OpenAiSchema.Object(document["components"]?["schemas"]?["ChatCompletionRequest"]?["properties"], "ChatCompletionRequest.properties");
        foreach (var name in new[] { "model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "seed", "stop", "n", "stream", "stream_options", "video_id" })
            Assert.True(properties.ContainsKey(name), $"the request schema lacks '{name}'");
        var example = properties["messages"]?["example"] as JsonArray;
        Assert.NotNull(example);
        Assert.Contains("video_url", example.ToJsonString());
        Assert.Equal("vqtoken-llava-ov-0.5b", (string?)properties["model"]?["example"]);
        var responses = OpenAiSchema.Object(operation["responses"], "responses");
        foreach (var code in new[] { "200", "400", "404", "409", "429", "503" }) Assert.True(responses.ContainsKey(code), $"no {code} response documented");
    }

    [Fact]
    public async Task Model_not_ready_is_a_503_problem_with_an_openai_error()
    {
        using var broken = new ServiceFactory(new Dictionary<string, string?> { ["Model:Path"] = Path.Combine(service.Factory.DataDirectory, "no-model-here") });
        var client = broken.CreateClient();

        var (status, body, response) = await client.CompleteAsync(TextOnly("?", "0123456789abcdefghjkmnpqrs"));

        OpenAiSchema.AssertError(HttpStatusCode.ServiceUnavailable, "urn:vqtoken:problem:not-ready", "server_error", status, body, response);
    }

    private static JsonObject TextOnly(string question, string videoId) => new()
    {
        ["model"] = Model,
        ["video_id"] = videoId,
        ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = question }),
        ["max_tokens"] = 6,
    };
}
