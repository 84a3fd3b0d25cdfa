using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;

namespace VQToken.Api.Videos;

/// <summary>One video as the service knows it. Immutable: changes go through
/// <see cref="IVideoStore.UpdateAsync"/>, which validates the status transition.</summary>
public sealed record VideoRecord
{
    public required string Id { get; init; }
    /// <summary>The API key id that created it; every owner sees only its own videos.</summary>
    public required string Owner { get; init; }
    public required VideoSource Source { get; init; }
    /// <summary>SHA-256 of the source bytes, lowercase hex.</summary>
    public required string Sha256 { get; init; }
    public required CompressionSettings Settings { get; init; }
    public VideoStatus Status { get; init; } = VideoStatus.Queued;
    /// <summary>Why it failed, or why it was re-queued.</summary>
    public string? Reason { get; init; }
    public VideoProgress? Progress { get; init; }
    public SourceProbe? Probe { get; init; }
    public TokenCounts? Tokens { get; init; }
    /// <summary>Time in the source (seconds) of each sampled frame, in sampling order; null before processing
    /// (and on videos processed before timestamps were recorded).</summary>
    public IReadOnlyList<double>? FrameTimes { get; init; }
    /// <summary>Milliseconds spent per stage (probe, frames, vision, compress, ...).</summary>
    public IReadOnlyDictionary<string, double> StageMilliseconds { get; init; } = new Dictionary<string, double>();
    /// <summary>How many times processing started (a job redelivered after a crash counts again).</summary>
    public int Attempts { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>Same owner + same bytes + same settings = same video.</summary>
    [JsonIgnore]
    public string DedupeKey => DedupeKeyOf(Owner, Sha256, Settings);

    public static string DedupeKeyOf(string owner, string sha256, CompressionSettings settings) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{owner}\n{sha256.ToLowerInvariant()}\n{settings.CanonicalKey}")));

    /// <summary>A new queued record with a fresh id.</summary>
    public static VideoRecord CreateQueued(string owner, VideoSource source, string sha256, CompressionSettings settings, DateTimeOffset now) => new()
    {
        Id = VideoId.New(now),
        Owner = owner,
        Source = source,
        Sha256 = sha256.ToLowerInvariant(),
        Settings = settings,
        Status = VideoStatus.Queued,
        CreatedAt = now,
        UpdatedAt = now,
    };
}
