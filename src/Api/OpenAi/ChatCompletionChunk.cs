using System.Text.Json.Serialization;

namespace VQToken.Api.OpenAi;

/// <summary>OpenAI's <c>chat.completion.chunk</c>: one Server-Sent Event of a streamed completion.</summary>
public sealed record ChatCompletionChunk(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("system_fingerprint")] string SystemFingerprint,
    [property: JsonPropertyName("choices")] IReadOnlyList<ChatCompletionChunkChoice> Choices)
{
    [JsonPropertyName("object"), JsonPropertyOrder(-1)] public string Object => "chat.completion.chunk";

    /// <summary>Only on the last chunk, and only with <c>stream_options.include_usage</c>.</summary>
    [JsonPropertyName("usage"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ChatCompletionUsage? Usage { get; init; }

    /// <summary>Only on the chunk with the finish reason.</summary>
    [JsonPropertyName("vqtoken"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public VQTokenDetails? VQToken { get; init; }
}
