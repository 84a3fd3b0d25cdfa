using System.Text.Json;
using System.Text.Json.Serialization;

namespace VQToken.Api.OpenAi;

/// <summary>
/// Body of <c>POST /v1/chat/completions</c>: the subset of OpenAI's Chat Completions request the
/// service honours (fields it does not know are ignored), plus the <c>video_id</c>, <c>top_k</c> and <c>vqtoken</c> extensions.
/// </summary>
public sealed record ChatCompletionRequest
{
    /// <summary>Model id. The service has one model (GET /v1/models); any value is accepted and echoed back.</summary>
    /// <example>vqtoken-llava-ov-0.5b</example>
    [JsonPropertyName("model")] public string? Model { get; init; }

    /// <summary>
    /// The conversation: an optional leading system (or developer) message, then user/assistant turns
    /// ending with a user turn. <c>content</c> is a string or an array of parts: <c>{"type":"text","text":…}</c>,
    /// <c>{"type":"video_url","video_url":{"url":"https://…"}}</c> (fetched like POST /videos with a URL),
    /// <c>{"type":"video_url","video_url":{"url":"vqtoken://videos/ID"}}</c> or <c>{"type":"video","video_id":"ID"}</c>
    /// (an uploaded video). Exactly one video per request, in a user message (or the top-level <c>video_id</c>).
    /// </summary>
    /// <example>[{"role":"system","content":"Answer in one sentence."},{"role":"user","content":[{"type":"video_url","video_url":{"url":"https://example.com/video.mp4"}},{"type":"text","text":"What happens in this video?"}]}]</example>
    [JsonPropertyName("messages")] public IReadOnlyList<ChatCompletionRequestMessage>? Messages { get; init; }

    /// <summary>Extension: the id of an uploaded video (instead of a video part in a message).</summary>
    [JsonPropertyName("video_id")] public string? VideoId { get; init; }

    /// <summary>Tokens to generate at most (default Ask:DefaultMaxNewTokens); <c>max_completion_tokens</c> wins when both are given.</summary>
    /// <example>128</example>
    [JsonPropertyName("max_tokens")] public int? MaxTokens { get; init; }

    /// <summary>Tokens to generate at most (OpenAI's newer name for <c>max_tokens</c>).</summary>
    [JsonPropertyName("max_completion_tokens")] public int? MaxCompletionTokens { get; init; }

    /// <summary>0 (default) = greedy; otherwise the sampling temperature, at most 2.</summary>
    /// <example>0</example>
    [JsonPropertyName("temperature")] public double? Temperature { get; init; }

    /// <summary>Nucleus sampling mass in (0, 1] (default 1 = off).</summary>
    [JsonPropertyName("top_p")] public double? TopP { get; init; }

    /// <summary>Extension: sample among the K most likely tokens (0 = off).</summary>
    [JsonPropertyName("top_k")] public int? TopK { get; init; }

    /// <summary>Seed for sampling: the same seed gives the same answer.</summary>
    [JsonPropertyName("seed")] public long? Seed { get; init; }

    /// <summary>A string or up to 4 strings that end the answer (not included in it).</summary>
    [JsonPropertyName("stop")] public JsonElement? Stop { get; init; }

    /// <summary>Number of choices; only 1 is supported.</summary>
    [JsonPropertyName("n")] public int? N { get; init; }

    /// <summary>Stream the answer as Server-Sent Events of <c>chat.completion.chunk</c> objects, ended by <c>data: [DONE]</c>.</summary>
    /// <example>false</example>
    [JsonPropertyName("stream")] public bool? Stream { get; init; }

    /// <summary>Streaming options: <c>include_usage</c> adds a last chunk with empty <c>choices</c> and the usage.</summary>
    [JsonPropertyName("stream_options")] public ChatCompletionStreamOptions? StreamOptions { get; init; }

    /// <summary>Extension: what the service adds to the answer (OpenAI clients pass it with <c>extra_body</c>).</summary>
    [JsonPropertyName("vqtoken")] public VQTokenOptions? VQToken { get; init; }
}

/// <summary>The request's <c>vqtoken</c> extension.</summary>
public sealed record VQTokenOptions
{
    /// <summary>Also return where the answer looked, in the response's <c>vqtoken.evidence</c> (docs/EVIDENCE.md).</summary>
    /// <example>true</example>
    [JsonPropertyName("evidence")] public bool? Evidence { get; init; }
}
