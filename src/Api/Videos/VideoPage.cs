namespace VQToken.Api.Videos;

/// <summary>A page of videos; <see cref="Next"/> is null on the last page.</summary>
public sealed record VideoPage(IReadOnlyList<VideoRecord> Items, string? Next);
