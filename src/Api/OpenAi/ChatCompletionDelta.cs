using System.Text.Json.Serialization;

namespace VQToken.Api.OpenAi;

/// <summary>What a chunk adds to the message: the role (first chunk) and a piece of content.</summary>
public sealed record ChatCompletionDelta(
    [property: JsonPropertyName("role"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Role,
    [property: JsonPropertyName("content"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Content);
