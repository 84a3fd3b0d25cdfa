using System.ComponentModel.DataAnnotations;

namespace VQToken.Api.Ingestion;

/// <summary>Uploads and the temporary store (configuration section "Video:Ingestion").</summary>
public sealed class IngestionOptions
{
    public const string Section = "Video:Ingestion";

    /// <summary>Largest accepted upload, counted while streaming (default 2 GiB).</summary>
    [Range(1, long.MaxValue)] public long MaxUploadBytes { get; set; } = 2L * 1024 * 1024 * 1024;

    /// <summary>Where uploads and downloads are kept while they are checked and sampled; empty: a
    /// "vqtoken-ingest" folder in the system temp directory.</summary>
    public string? TempRoot { get; set; }
}
