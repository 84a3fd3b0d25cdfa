using System.Globalization;
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
    /// <summary>Version tag written into <see cref="Metadata"/>.</summary>
    public const string Format = "vqtoken-compressed/1";

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
    public static CompressedVideo FromArrays(int frames, int grid, int k, int dim, float[] codebook, short[] indexMap, CompressionSettings settings) =>
        new(frames, grid, k, dim, codebook, indexMap, settings);

    /// <summary>T: number of frames.</summary>
    public int Frames { get; }

    /// <summary>g: side of the per-frame token grid (27 for SigLIP so400m at 384), g·g = P.</summary>
    public int Grid { get; }

    /// <summary>K: codebook rows (the chosen K in adaptive mode).</summary>
    public int K { get; }

    /// <summary>D: token width (896 for Qwen2-0.5B).</summary>
    public int Dim { get; }

    /// <summary>How this was made (mode, K or K range, seed, iteration cap, elbow rule).</summary>
    public CompressionSettings Settings { get; }

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

    /// <summary>The tensors to store: "codebook" float32 [K, D] and "index_map" int16 [T, g, g]
    /// (new tensors, owned by the caller's dispose scope). Pair with <see cref="Metadata"/>.</summary>
    public Dictionary<string, Tensor> ToTensors() => new()
    {
        ["codebook"] = CodebookTensor(),
        ["index_map"] = tensor(_indexMap, [Frames, Grid, Grid]),
    };

    /// <summary>String metadata to store with <see cref="ToTensors"/> (safetensors-style header).</summary>
    public Dictionary<string, string> Metadata() => new()
    {
        ["format"] = Format,
        ["mode"] = Settings.Mode.WireName(),
        ["frames"] = Str(Frames),
        ["grid"] = Str(Grid),
        ["k"] = Str(K),
        ["dim"] = Str(Dim),
        ["settings.k"] = Str(Settings.K),
        ["settings.min_k"] = Str(Settings.MinK),
        ["settings.max_k"] = Str(Settings.MaxK),
        ["settings.seed"] = Settings.Seed.ToString(CultureInfo.InvariantCulture),
        ["settings.max_iterations"] = Str(Settings.MaxIterations),
        ["settings.elbow"] = Settings.Elbow.ToString(),
        ["settings.tokens"] = Settings.Tokens.WireName(),
    };

    /// <summary>Rebuilds a <see cref="CompressedVideo"/> from <see cref="ToTensors"/> + <see cref="Metadata"/>.</summary>
    /// <exception cref="FormatException">Unknown format, missing entries or inconsistent shapes.</exception>
    public static CompressedVideo FromTensors(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        if (metadata.GetValueOrDefault("format") != Format)
            throw new FormatException($"not a {Format} entry (format = '{metadata.GetValueOrDefault("format")}')");
        if (!CompressionModes.TryParse(metadata.GetValueOrDefault("mode"), out var mode))
            throw new FormatException($"unknown mode '{metadata.GetValueOrDefault("mode")}'");
        if (!Enum.TryParse<ElbowIndexing>(Required(metadata, "settings.elbow"), out var elbow))
            throw new FormatException("unknown settings.elbow");
        var tokens = TokenPath.Codebook;
        if (metadata.TryGetValue("settings.tokens", out var path) && !CompressionModes.TryParseTokenPath(path, out tokens))
            throw new FormatException($"unknown settings.tokens '{path}'");
        var settings = new CompressionSettings
        {
            Mode = mode,
            K = Int(metadata, "settings.k"),
            MinK = Int(metadata, "settings.min_k"),
            MaxK = Int(metadata, "settings.max_k"),
            Seed = ulong.Parse(Required(metadata, "settings.seed"), CultureInfo.InvariantCulture),
            MaxIterations = Int(metadata, "settings.max_iterations"),
            Elbow = elbow,
            Tokens = tokens,
        };
        int frames = Int(metadata, "frames"), grid = Int(metadata, "grid"), k = Int(metadata, "k"), dim = Int(metadata, "dim");
        var codebook = tensors.GetValueOrDefault("codebook") ?? throw new FormatException("missing tensor 'codebook'");
        var indexMap = tensors.GetValueOrDefault("index_map") ?? throw new FormatException("missing tensor 'index_map'");
        if (!codebook.shape.SequenceEqual([k, dim]))
            throw new FormatException($"codebook shape [{string.Join(", ", codebook.shape)}], expected [{k}, {dim}]");
        if (!indexMap.shape.SequenceEqual([frames, grid, grid]))
            throw new FormatException($"index_map shape [{string.Join(", ", indexMap.shape)}], expected [{frames}, {grid}, {grid}]");
        using var scope = NewDisposeScope();
        var wide = indexMap.to(ScalarType.Int64);
        if (wide.numel() > 0 && (wide.min().item<long>() < 0 || wide.max().item<long>() >= k))
            throw new FormatException($"index_map holds ids outside [0, {k})");
        var values = codebook.to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
        var ids = indexMap.to(ScalarType.Int16).cpu().contiguous().data<short>().ToArray();
        try
        {
            return new CompressedVideo(frames, grid, k, dim, values, ids, settings);
        }
        catch (ArgumentException e)
        {
            throw new FormatException(e.Message, e);
        }
    }

    /// <summary>Builds the cached form from flat labels [N] (N = T·g·g) and a codebook [K, D].</summary>
    internal static CompressedVideo FromTensors(int frames, int grid, Tensor labels, Tensor codebook, CompressionSettings settings)
    {
        using var scope = NewDisposeScope();
        var values = codebook.to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
        var ids = labels.to(ScalarType.Int16).cpu().contiguous().data<short>().ToArray();
        return new CompressedVideo(frames, grid, (int)codebook.shape[0], (int)codebook.shape[1], values, ids, settings);
    }

    private static string Str(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Required(IReadOnlyDictionary<string, string> metadata, string key) =>
        metadata.GetValueOrDefault(key) ?? throw new FormatException($"missing metadata '{key}'");

    private static int Int(IReadOnlyDictionary<string, string> metadata, string key) =>
        int.TryParse(Required(metadata, key), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
            ? v : throw new FormatException($"metadata '{key}' is not an integer");
}
