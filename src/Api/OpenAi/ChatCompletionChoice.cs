using System.Text.Json.Serialization;

namespace VQToken.Api.OpenAi;

/// <summary>The one choice of a completion.</summary>
public sealed record ChatCompletionChoice(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("message")] ChatCompletionAssistantMessage Message,
    [property: JsonPropertyName("finish_reason")] string FinishReason)
{
    /// <summary>Always null: log probabilities are not returned.</summary>
    [JsonPropertyName("logprobs")] public object? Logprobs => null;
}
