using System.Text.Json.Serialization;

namespace VQToken.Api.Storage;

/// <summary>How the float payloads of a cached entry are stored on disk.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FloatPrecision>))]
public enum FloatPrecision
{
    [JsonStringEnumMemberName("f16")] Float16,
    [JsonStringEnumMemberName("f32")] Float32,
}
