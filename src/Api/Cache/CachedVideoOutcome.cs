namespace VQToken.Api.Cache;

public enum CachedVideoOutcome
{
    /// <summary>The entry is here and intact.</summary>
    Ready,
    /// <summary>The entry was missing or corrupt; the video was re-enqueued to recompute it from its source.</summary>
    Recomputing,
    /// <summary>The entry was missing or corrupt and the source is gone; the video is now failed.</summary>
    Failed,
}
