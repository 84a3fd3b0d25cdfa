using System.Text.Json.Serialization;

namespace VQToken.Api.OpenAi;

/// <summary>"hit" or "miss" for the codebook cache and the prompt-prefix KV cache.</summary>
public sealed record VQTokenCache(
    [property: JsonPropertyName("codebook")] string Codebook,
    [property: JsonPropertyName("prefix")] string Prefix);
