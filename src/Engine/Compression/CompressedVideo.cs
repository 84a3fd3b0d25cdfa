using TorchSharp;
using static TorchSharp.torch;

namespace VQToken.Engine.Compression;

/// <summary>
/// What the service caches per video in VQToken modes: the codebook B [K, D] (float32) and the index
/// map M [T, g, g] (cluster id of every grid token, int16), plus the settings that produced them.
/// Enough to rebuild the language model's visual tokens (B itself, or VQ-Attention over B and M) without the video.
/// Immutable, managed memory only (no native tensors held): safe to keep in a cache.
/// </summary>
public sealed class CompressedVideo
{
    private readonly float[] _codebook; // [K * D], row-major
    private readonly short[] _indexMap; // [T * g * g], row-major

    internal CompressedVideo(int frames, int grid, int k, int dim, float[] codebook, short[] indexMap, CompressionSettings settings)
    {
        if (codebook.Length != (long)k * dim) throw new ArgumentException($"codebook holds {codebook.Length} values, expected {k} x {dim}");
        if (indexMap.Length != (long)frames * grid * grid) throw new ArgumentException($"index map holds {indexMap.Length} ids, expected {frames} x {grid} x {grid}");
        Frames = frames;
        Grid = grid;
        K = k;
        Dim = dim;
        _codebook = codebook;
        _indexMap = indexMap;
        Settings = settings;
    }

    /// <summary>Rebuilds a compressed video from stored arrays (codebook [K, D], index map [T, g, g]);
    /// validates shapes and ids.</summary>
    public static CompressedVideo FromArrays(int frames, int grid, int k, int dim, float[] codebook, short[] indexMap, CompressionSettings settings)
    {
        foreach (var id in indexMap)
            if (id < 0 || id >= k) throw new ArgumentException($"index map holds id {id}, outside [0, {k})");
        return new(frames, grid, k, dim, codebook, indexMap, settings);
    }

    /// <summary>T: number of frames.</summary>
    public int Frames { get; }

    /// <summary>g: side of the per-frame token grid (27 for SigLIP so400m at 384), g·g = P.</summary>
    public int Grid { get; }

    /// <summary>K: codebook rows (the chosen K in adaptive mode).</summary>
    public int K { get; }

    /// <summary>D: token width (896 for Qwen2-0.5B).</summary>
    public int Dim { get; }

    /// <summary>How this was made (mode, K or K range, seed, iteration cap, elbow rule, token path).</summary>
    public CompressionSettings Settings { get; }

    /// <summary>What the language model reads (the engine gets resolved settings; a legacy null reads as the codebook).</summary>
    public TokenPath TokenPath => Settings.Tokens ?? TokenPath.Codebook;

    /// <summary>Grid tokens before compression (T·g·g) and codebook entries after (K). The token count
    /// the language model finally sees depends on the token path (K + 1, or max(T, K) + 1 with VQ-Attention).</summary>
    public TokenCounts Tokens => new(Frames * Grid * Grid, K);

    /// <summary>Bytes held by the codebook and index map (for cache accounting).</summary>
    public long ByteSize => _codebook.LongLength * sizeof(float) + _indexMap.LongLength * sizeof(short);

    /// <summary>B, row-major [K, D].</summary>
    public ReadOnlySpan<float> CodebookValues => _codebook;

    /// <summary>M, row-major [T, g, g].</summary>
    public ReadOnlySpan<short> IndexMapValues => _indexMap;

    /// <summary>B as a new float32 tensor [K, D] (the caller's dispose scope owns it).</summary>
    public Tensor CodebookTensor() => tensor(_codebook, [K, Dim], ScalarType.Float32);

    /// <summary>M as a new int64 tensor [T, g, g] (the caller's dispose scope owns it).</summary>
    public Tensor IndexMapTensor()
    {
        using var scope = NewDisposeScope();
        return tensor(_indexMap, [Frames, Grid, Grid]).to(ScalarType.Int64).MoveToOuterDisposeScope();
    }

    /// <summary>Builds the cached form from flat labels [N] (N = T·g·g) and a codebook [K, D].</summary>
    internal static CompressedVideo FromTensors(int frames, int grid, Tensor labels, Tensor codebook, CompressionSettings settings)
    {
        using var scope = NewDisposeScope();
        var values = codebook.to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
        var ids = labels.to(ScalarType.Int16).cpu().contiguous().data<short>().ToArray();
        return new CompressedVideo(frames, grid, (int)codebook.shape[0], (int)codebook.shape[1], values, ids, settings);
    }
}
