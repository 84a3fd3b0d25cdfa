using System.Text.Json.Serialization;

namespace VQToken.Api.OpenAi;

/// <summary>OpenAI's <c>model</c> object.</summary>
public sealed record ModelCard(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("owned_by")] string OwnedBy)
{
    [JsonPropertyName("object"), JsonPropertyOrder(-1)] public string Object => "model";
}
