namespace VQToken.Api.Videos;

/// <summary>One page of an owner's videos, newest first. <see cref="After"/> is the
/// <see cref="VideoPage.Next"/> cursor of the previous page.</summary>
public sealed record VideoQuery(string Owner, VideoStatus? Status = null, int Limit = 50, string? After = null)
{
    public const int MaxLimit = 500;
}
