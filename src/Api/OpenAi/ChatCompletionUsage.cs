using System.Text.Json.Serialization;

namespace VQToken.Api.OpenAi;

/// <summary>Token counts; <c>prompt_tokens</c> includes the video's visual tokens.</summary>
public sealed record ChatCompletionUsage(
    [property: JsonPropertyName("prompt_tokens")] int PromptTokens,
    [property: JsonPropertyName("completion_tokens")] int CompletionTokens)
{
    [JsonPropertyName("total_tokens")] public int TotalTokens => PromptTokens + CompletionTokens;
}
