using System.Text.Json.Serialization;

namespace VQToken.Api.OpenAi;

/// <summary>OpenAI's <c>stream_options</c>.</summary>
public sealed record ChatCompletionStreamOptions
{
    /// <summary>Send a last chunk with empty <c>choices</c> and the token usage before <c>[DONE]</c>.</summary>
    [JsonPropertyName("include_usage")] public bool? IncludeUsage { get; init; }
}
