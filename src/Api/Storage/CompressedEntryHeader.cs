namespace VQToken.Api.Storage;

/// <summary>The JSON header of a cached entry file (see docs/STORAGE.md).</summary>
public sealed record CompressedEntryHeader
{
    public required string ModelFingerprint { get; init; }
    public required CompressionSettings Settings { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    /// <summary>The payload arrays, in payload order: codebook, index_map, then tokens if present.</summary>
    public required IReadOnlyList<CompressedEntryTensor> Tensors { get; init; }
}
