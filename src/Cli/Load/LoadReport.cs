using System.Text.Json.Serialization;

namespace VQToken.Cli.Load;

/// <summary>The outcome of a load run: counts by status, throughput and latency percentiles (ms).</summary>
public sealed record LoadReport(
    [property: JsonPropertyName("requests")] int Requests,
    [property: JsonPropertyName("succeeded")] int Succeeded,
    [property: JsonPropertyName("failed")] int Failed,
    /// <summary>Failures by HTTP status code, or "timeout" / "connection" when no response came.</summary>
    [property: JsonPropertyName("errors")] IReadOnlyDictionary<string, int> Errors,
    [property: JsonPropertyName("wall_seconds")] double WallSeconds,
    [property: JsonPropertyName("throughput_per_s")] double ThroughputPerSecond,
    [property: JsonPropertyName("latency_ms")] IReadOnlyDictionary<string, double> LatencyMs);
