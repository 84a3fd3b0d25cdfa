using System.Text.Json.Serialization;

namespace VQToken.Api.OpenAi;

/// <summary>The generated answer.</summary>
public sealed record ChatCompletionAssistantMessage(
    [property: JsonPropertyName("content")] string Content)
{
    [JsonPropertyName("role"), JsonPropertyOrder(-1)] public string Role => "assistant";
}
