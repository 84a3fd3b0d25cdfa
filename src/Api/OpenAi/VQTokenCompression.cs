using System.Text.Json.Serialization;

namespace VQToken.Api.OpenAi;

/// <summary>How the video was compressed: mode, codebook size, frame tokens before compression, and the ratio.</summary>
public sealed record VQTokenCompression(
    [property: JsonPropertyName("mode")] string Mode,
    [property: JsonPropertyName("k")] int? K,
    [property: JsonPropertyName("original_tokens")] long OriginalTokens,
    [property: JsonPropertyName("ratio")] double Ratio);
