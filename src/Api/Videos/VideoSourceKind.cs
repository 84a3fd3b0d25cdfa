using System.Text.Json.Serialization;

namespace VQToken.Api.Videos;

[JsonConverter(typeof(JsonStringEnumConverter<VideoSourceKind>))]
public enum VideoSourceKind
{
    [JsonStringEnumMemberName("upload")] Upload,
    [JsonStringEnumMemberName("url")] Url,
}
