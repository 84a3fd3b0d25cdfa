namespace VQToken.Api.Storage;

/// <summary>The cached, compressed representation of one video for one model: the VQToken codebook
/// [K, D], the index map [T, H, W] of cluster ids, and optionally the tokens the LLM consumes [N, D]
/// (VQ-Attention output, or the pooled full tokens in <see cref="CompressionMode.Full"/>). Plain
/// arrays, row-major, so storage never touches TorchSharp. Serialised by <see cref="CompressedEntryFormat"/>.</summary>
public sealed record CompressedVideoEntry
{
    /// <summary>Which model made it (<see cref="ModelFingerprint"/>); a different model misses.</summary>
    public required string ModelFingerprint { get; init; }
    public required CompressionSettings Settings { get; init; }
    /// <summary>Precision of <see cref="Codebook"/> and <see cref="Tokens"/> on disk; fp16 halves the
    /// entry and reads back widened to float.</summary>
    public FloatPrecision Precision { get; init; } = FloatPrecision.Float16;
    /// <summary>Embedding width D.</summary>
    public required int Dim { get; init; }
    /// <summary>[K, D]; empty in full mode.</summary>
    public required float[] Codebook { get; init; }
    /// <summary>Frames T and the per-frame grid H × W of <see cref="IndexMap"/>.</summary>
    public required int Frames { get; init; }
    public required int GridHeight { get; init; }
    public required int GridWidth { get; init; }
    /// <summary>[T, H, W] cluster ids &lt; K; stored as uint8 when K ≤ 256, else uint16.</summary>
    public required ushort[] IndexMap { get; init; }
    /// <summary>[N, D] tokens for the LLM, when computed.</summary>
    public float[]? Tokens { get; init; }
    public DateTimeOffset CreatedAt { get; init; } = DateTimeOffset.UtcNow;

    /// <summary>K, the codebook size.</summary>
    public int CodebookSize => Dim == 0 ? 0 : Codebook.Length / Dim;
    public int TokenCount => Tokens is null || Dim == 0 ? 0 : Tokens.Length / Dim;

    /// <summary>Null when the arrays agree with the declared shapes, else what does not.</summary>
    public string? Validate()
    {
        if (string.IsNullOrWhiteSpace(ModelFingerprint) || !ModelFingerprint.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            return "model fingerprint must be non-empty and [A-Za-z0-9_-]";
        if (Settings.Problems().Values.FirstOrDefault() is [var settings, ..]) return settings;
        if (Dim < 1) return $"dim must be positive, got {Dim}";
        if (Codebook.Length % Dim != 0) return $"codebook length {Codebook.Length} is not a multiple of dim {Dim}";
        if (CodebookSize > 65536) return $"codebook size {CodebookSize} exceeds 65536";
        if (Frames < 0 || GridHeight < 0 || GridWidth < 0) return "index map shape must not be negative";
        if (IndexMap.Length != (long)Frames * GridHeight * GridWidth)
            return $"index map length {IndexMap.Length} != {Frames}×{GridHeight}×{GridWidth}";
        if (IndexMap.Length > 0 && IndexMap.Max() >= CodebookSize) return $"index map has a cluster id ≥ K = {CodebookSize}";
        if (Tokens is not null && Tokens.Length % Dim != 0) return $"tokens length {Tokens.Length} is not a multiple of dim {Dim}";
        if (Settings.Mode == CompressionMode.Full && Tokens is null) return "a full-mode entry needs its tokens";
        if (Settings.Mode != CompressionMode.Full && (CodebookSize == 0 || IndexMap.Length == 0)) return "a vqtoken entry needs a codebook and an index map";
        return null;
    }
}
