using System.Text.Json;
using System.Text.Json.Serialization;

namespace VQToken.Api.OpenAi;

/// <summary>One message of a chat completion request.</summary>
public sealed record ChatCompletionRequestMessage
{
    /// <summary><c>system</c>, <c>developer</c> (same as system), <c>user</c> or <c>assistant</c>.</summary>
    [JsonPropertyName("role")] public string? Role { get; init; }

    /// <summary>A string, or an array of content parts (text and at most one video).</summary>
    [JsonPropertyName("content")] public JsonElement? Content { get; init; }
}
