using VQToken.Api.Processing;

namespace VQToken.Api.Videos;

/// <summary>The outcome of an update: the stored record when <see cref="VideoUpdateOutcome.Updated"/>,
/// else why not (errors are returned, not thrown).</summary>
public sealed record VideoUpdateResult(VideoUpdateOutcome Outcome, VideoRecord? Video, string? Error)
{
    public static VideoUpdateResult Updated(VideoRecord video) => new(VideoUpdateOutcome.Updated, video, null);
    public static VideoUpdateResult NotFound(string id) => new(VideoUpdateOutcome.NotFound, null, $"video {id} not found");
    public static VideoUpdateResult Rejected(VideoRecord current, string error) => new(VideoUpdateOutcome.Rejected, current, error);
}
