using System.Text.Json.Serialization;

namespace VQToken.Api.OpenAi;

/// <summary>OpenAI's <c>chat.completion</c> object, plus the <c>vqtoken</c> extension that OpenAI clients ignore.</summary>
public sealed record ChatCompletionResponse(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("system_fingerprint")] string SystemFingerprint,
    [property: JsonPropertyName("choices")] IReadOnlyList<ChatCompletionChoice> Choices,
    [property: JsonPropertyName("usage")] ChatCompletionUsage Usage,
    [property: JsonPropertyName("vqtoken")] VQTokenDetails VQToken)
{
    [JsonPropertyName("object"), JsonPropertyOrder(-1)] public string Object => "chat.completion";
}
