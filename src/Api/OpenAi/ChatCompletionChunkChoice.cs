using System.Text.Json.Serialization;

namespace VQToken.Api.OpenAi;

/// <summary>The choice of a chunk: a delta of the message, and the finish reason on the last one.</summary>
public sealed record ChatCompletionChunkChoice(
    [property: JsonPropertyName("delta")] ChatCompletionDelta Delta,
    [property: JsonPropertyName("finish_reason")] string? FinishReason)
{
    [JsonPropertyName("index"), JsonPropertyOrder(-1)] public int Index => 0;
    [JsonPropertyName("logprobs")] public object? Logprobs => null;
}
