using System.Text.Json;
using System.Text.Json.Nodes;
using VQToken.Api.Tests.Videos;

namespace VQToken.Api.Tests.OpenAi;

/// <summary>The parts of OpenAI's Chat Completions response schema that clients rely on, checked field by
/// field: required members, their JSON types and allowed values.</summary>
public static class OpenAiSchema
{
    private static readonly string[] FinishReasons = ["stop", "length"];

    /// <summary>Checks a <c>chat.completion</c> object; returns the answer text.</summary>
    public static string AssertCompletion(JsonObject body, string model)
    {
        AssertHeader(body, "chat.completion", model);
        var choices = Array(body, "choices");
        Assert.Single(choices);
        var choice = Object(choices[0], "choices[0]");
        Assert.Equal(0, Integer(choice, "index"));
        var message = Object(choice["message"], "choices[0].message");
        Assert.Equal("assistant", String(message, "role"));
        var content = String(message, "content");
        Assert.Contains(String(choice, "finish_reason"), FinishReasons);
        AssertNull(choice, "logprobs");
        AssertUsage(Object(body["usage"], "usage"));
        return content;
    }

    /// <summary>Checks a streamed completion: plain data events only, a role chunk, content chunks, a chunk with
    /// the finish reason, a usage chunk with empty choices when <paramref name="includeUsage"/>, then [DONE].
    /// Returns the concatenated content.</summary>
    public static string AssertStream(string raw, IReadOnlyList<ServerSentEventReader.ServerSentEvent> events, string model, bool includeUsage)
    {
        Assert.DoesNotContain(raw.Split('\n'), line => line.StartsWith("event:", StringComparison.Ordinal));
        Assert.All(events, e => Assert.Equal("message", e.Event));
        Assert.True(events.Count >= 3, $"expected role, finish and [DONE] events at least, got {events.Count}: {raw}");
        Assert.Equal("[DONE]", events[^1].Data);
        var chunks = events.Take(events.Count - 1).Select(e => JsonNode.Parse(e.Data) as JsonObject ?? throw new InvalidDataException("not a JSON object: " + e.Data)).ToList();

        string id = String(chunks[0], "id");
        long created = Integer(chunks[0], "created");
        foreach (var chunk in chunks)
        {
            AssertHeader(chunk, "chat.completion.chunk", model);
            Assert.Equal(id, String(chunk, "id"));
            Assert.Equal(created, Integer(chunk, "created"));
        }

        var usageChunk = includeUsage ? chunks[^1] : null;
        var withChoices = includeUsage ? chunks[..^1] : chunks;
        if (usageChunk is not null)
        {
            Assert.Empty(Array(usageChunk, "choices"));
            AssertUsage(Object(usageChunk["usage"], "usage"));
        }
        Assert.DoesNotContain(withChoices, c => c.ContainsKey("usage") && c["usage"] is not null);

        var content = new System.Text.StringBuilder();
        for (int i = 0; i < withChoices.Count; i++)
        {
            var choices = Array(withChoices[i], "choices");
            Assert.Single(choices);
            var choice = Object(choices[0], $"chunk {i} choices[0]");
            Assert.Equal(0, Integer(choice, "index"));
            var delta = Object(choice["delta"], $"chunk {i} delta");
            bool first = i == 0, last = i == withChoices.Count - 1;
            if (first)
            {
                Assert.Equal("assistant", String(delta, "role"));
                Assert.Equal("", String(delta, "content"));
            }
            else Assert.False(delta.ContainsKey("role"), $"chunk {i} repeats the role");
            if (last) Assert.Contains(String(choice, "finish_reason"), FinishReasons);
            else AssertNull(choice, "finish_reason");
            if (!first && !last) content.Append(String(delta, "content"));
            if (last) Assert.False(delta.ContainsKey("content") && delta["content"] is not null, "the finish chunk carries no content");
        }
        Assert.True(withChoices.Count >= 2, "a role chunk and a finish chunk are required");
        return content.ToString();
    }

    /// <summary>Checks the ProblemDetails of an error and the OpenAI <c>error</c> object it carries.</summary>
    public static JsonObject AssertError(System.Net.HttpStatusCode expectedStatus, string expectedType, string expectedErrorType,
        System.Net.HttpStatusCode status, JsonObject body, HttpResponseMessage response)
    {
        ApiClient.AssertProblem(expectedStatus, expectedType, status, body);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var error = Object(body["error"], "error");
        Assert.False(string.IsNullOrWhiteSpace(String(error, "message")));
        Assert.Equal(expectedErrorType, String(error, "type"));
        Assert.True(error.ContainsKey("param") && error.ContainsKey("code"), "error needs param and code members");
        return error;
    }

    private static void AssertHeader(JsonObject body, string objectType, string model)
    {
        Assert.Equal(objectType, String(body, "object"));
        Assert.StartsWith("chatcmpl-", String(body, "id"));
        Assert.InRange(Integer(body, "created"), 1_600_000_000, 4_000_000_000);
        Assert.Equal(model, String(body, "model"));
    }

    private static void AssertUsage(JsonObject usage)
    {
        long prompt = Integer(usage, "prompt_tokens"), completion = Integer(usage, "completion_tokens"), total = Integer(usage, "total_tokens");
        Assert.True(prompt > 0, "prompt_tokens must be positive");
        Assert.True(completion >= 0, "completion_tokens must not be negative");
        Assert.Equal(prompt + completion, total);
    }

    public static JsonObject Object(JsonNode? node, string name) =>
        node as JsonObject ?? throw new Xunit.Sdk.XunitException($"'{name}' must be an object, got {node?.ToJsonString() ?? "nothing"}");

    public static JsonArray Array(JsonObject body, string name) =>
        body[name] as JsonArray ?? throw new Xunit.Sdk.XunitException($"'{name}' must be an array in {body.ToJsonString()}");

    public static string String(JsonObject body, string name) =>
        body[name] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>()
            : throw new Xunit.Sdk.XunitException($"'{name}' must be a string in {body.ToJsonString()}");

    public static long Integer(JsonObject body, string name) =>
        body[name] is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<long>(out var n) ? n
            : throw new Xunit.Sdk.XunitException($"'{name}' must be an integer in {body.ToJsonString()}");

    /// <summary>The member is present and null (OpenAI sends <c>null</c>, clients may test for the key).</summary>
    private static void AssertNull(JsonObject body, string name) =>
        Assert.True(body.ContainsKey(name) && body[name] is null, $"'{name}' must be present and null in {body.ToJsonString()}");
}
