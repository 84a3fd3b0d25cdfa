using System.Text.Json.Serialization;

namespace VQToken.Api.OpenAi;

/// <summary>OpenAI's model list (<c>GET /v1/models</c>).</summary>
public sealed record ModelList([property: JsonPropertyName("data")] IReadOnlyList<ModelCard> Data)
{
    [JsonPropertyName("object"), JsonPropertyOrder(-1)] public string Object => "list";
}
