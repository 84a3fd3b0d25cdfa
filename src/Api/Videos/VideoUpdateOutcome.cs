namespace VQToken.Api.Videos;

public enum VideoUpdateOutcome
{
    Updated,
    NotFound,
    /// <summary>The change was refused: a status transition the lifecycle does not allow, or a
    /// change to an identity field (id, owner, sha256, settings, created time).</summary>
    Rejected,
}
