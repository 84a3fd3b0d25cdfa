using System.Text.Json.Serialization;

namespace VQToken.Api.OpenAi;

/// <summary>How the video was compressed: mode, codebook size, frame tokens before compression, the ratio, the
/// elbow rule (adaptive) and the token path the LLM read (codebook or attention).</summary>
public sealed record VQTokenCompression(
    [property: JsonPropertyName("mode")] string Mode,
    [property: JsonPropertyName("k")] int? K,
    [property: JsonPropertyName("original_tokens")] long OriginalTokens,
    [property: JsonPropertyName("ratio")] double Ratio,
    [property: JsonPropertyName("elbow"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Elbow,
    [property: JsonPropertyName("tokens"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Tokens)
{
    public static VQTokenCompression From(Ask.AskCompression c) => new(c.Mode, c.K, c.OriginalTokens, c.Ratio, c.Elbow, c.Tokens);
}
