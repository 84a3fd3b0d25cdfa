namespace VQToken.Api.Cache;

public enum CacheLookupStatus
{
    Hit,
    Miss,
    /// <summary>An entry is stored but failed its integrity check or could not be parsed; it is never
    /// returned as data. The caller logs it, deletes it and recomputes from the source if there is
    /// one, else marks the video failed.</summary>
    Corrupt,
}
