using System.ComponentModel.DataAnnotations;

namespace VQToken.Ingestion.Url;

/// <summary>Settings of <see cref="VideoUrlFetcher"/> (configuration section "Video:Url").</summary>
public sealed class UrlFetchOptions
{
    public const string Section = "Video:Url";

    [Range(1, long.MaxValue)] public long MaxDownloadBytes { get; set; } = 2L * 1024 * 1024 * 1024;
    [Range(0, 10)] public int MaxRedirects { get; set; } = 3;
    [Range(0.1, 600)] public double ConnectTimeoutSeconds { get; set; } = 10;
    /// <summary>Whole download, redirects, retries and body included.</summary>
    [Range(1, 86400)] public double TotalTimeoutSeconds { get; set; } = 600;
    /// <summary>Retries of a transient failure (connection error, 408, 429, 5xx) before the body starts.</summary>
    [Range(0, 10)] public int MaxRetries { get; set; } = 2;
    [Range(0, 60)] public double RetryDelaySeconds { get; set; } = 0.5;
    /// <summary>On-prem use: allow loopback, private, CGNAT, link-local and unique-local addresses.
    /// Metadata, multicast, unspecified and broadcast addresses stay refused.</summary>
    public bool AllowPrivateAddresses { get; set; }
    /// <summary>When not empty, only these hosts (and their subdomains) may be fetched.</summary>
    public List<string> AllowedHosts { get; set; } = [];
}
