using System.Text.Json.Serialization;

namespace VQToken.Engine.Checkpoints.Acquisition;

/// <summary>One verified file of a <see cref="CacheManifest"/>.</summary>
public sealed record CacheManifestFile(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("size")] long Size,
    [property: JsonPropertyName("sha256")] string? Sha256);
