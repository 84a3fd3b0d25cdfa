namespace VQToken.Api.Videos;

/// <summary>Where the video came from: an uploaded file's name or the URL it was fetched from.</summary>
public sealed record VideoSource(VideoSourceKind Kind, string Location);
