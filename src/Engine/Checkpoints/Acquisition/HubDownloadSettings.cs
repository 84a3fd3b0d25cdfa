namespace VQToken.Engine.Checkpoints.Acquisition;

/// <summary>Retry behaviour of <see cref="HubDownloader"/>. A failed transfer resumes where it stopped
/// (HTTP Range); a file failing its size or checksum check is downloaded again from zero.</summary>
public sealed record HubDownloadSettings
{
    /// <summary>Tries per file (transfers broken off, server errors, checksum failures).</summary>
    public int MaxAttempts { get; init; } = 5;
    /// <summary>Wait before the first retry, doubled for each further one.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(2);
    /// <summary>A transfer that delivers no byte for this long is broken off and resumed.</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(60);
    public int MaxRedirects { get; init; } = 5;
}
