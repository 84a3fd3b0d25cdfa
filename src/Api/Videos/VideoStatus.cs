using System.Text.Json.Serialization;

namespace VQToken.Api.Videos;

/// <summary>Where a video is in its lifecycle: queued → processing → ready | failed.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<VideoStatus>))]
public enum VideoStatus
{
    [JsonStringEnumMemberName("queued")] Queued,
    [JsonStringEnumMemberName("processing")] Processing,
    [JsonStringEnumMemberName("ready")] Ready,
    [JsonStringEnumMemberName("failed")] Failed,
}
