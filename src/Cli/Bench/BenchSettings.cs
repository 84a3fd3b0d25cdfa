using VQToken.Engine.Checkpoints;
using VQToken.Testing;

namespace VQToken.Cli.Bench;

/// <summary>What the benchmark runs. The defaults fit the 2-core CPU dev machine in about 15 minutes;
/// the flags scale it up (more frames, repeats, a GPU device).</summary>
public sealed record BenchSettings
{
    public CheckpointSize Size { get; init; } = CheckpointSize.Full;
    /// <summary>Checkpoint directory; generated there when it holds no config.json.</summary>
    public required string Checkpoint { get; init; }
    public required string OutDir { get; init; }
    /// <summary>Frames per video for the ask and end-to-end scenarios.</summary>
    public int Frames { get; init; } = 8;
    /// <summary>Frames of the LLM-only prefill comparison (the paper's setting: 32).</summary>
    public int PrefillFrames { get; init; } = 32;
    public int K { get; init; } = 32;
    public int MinK { get; init; } = 12;
    /// <summary>Token path of the VQToken scenarios (default: the published codebook path).</summary>
    public Engine.Compression.TokenPath Tokens { get; init; } = Engine.Compression.TokenPath.Codebook;
    /// <summary>Elbow rule of the adaptive scenario (default: the published one).</summary>
    public Engine.Compression.ElbowIndexing Elbow { get; init; } = Engine.Compression.ElbowIndexing.Official;
    /// <summary>Answer length: exactly this many tokens (no stop ids).</summary>
    public int AnswerTokens { get; init; } = 16;
    /// <summary>Repeats of each ask-level measurement (the median is reported).</summary>
    public int Repeats { get; init; } = 3;
    /// <summary>Repeats of the long full-token prefill (the slowest single measurement).</summary>
    public int FullPrefillRepeats { get; init; } = 1;
    public int Concurrency { get; init; } = 8;
    /// <summary>Videos of the library search scenario (synthesized from the run's real encoding).</summary>
    public int SearchVideos { get; init; } = 100;
    /// <summary>Videos whose full-token scoring is measured for the search baseline (then extrapolated).</summary>
    public int SearchFullSample { get; init; } = 3;
    public string Device { get; init; } = "cpu";
    public string DType { get; init; } = "auto";
    /// <summary>libtorch intra-op threads; 0 = one per core.</summary>
    public int Threads { get; init; }
    /// <summary>Side of the square matmul that measures the machine's fp32 FLOP/s.</summary>
    public int MatmulSize { get; init; } = 2048;
    public long MemcpyBytes { get; init; } = 512L << 20;
    public string Question { get; init; } = "What is happening in this video? Describe the scene in detail.";
    /// <summary>Where docs/BENCHMARKS.md is updated; null leaves the docs alone.</summary>
    public string? DocsFile { get; init; }
    public bool Smoke { get; init; }
    /// <summary>CPU-bound neighbour processes of the "under load" scenario (default: one per core).</summary>
    public int LoadNeighbours { get; init; } = Environment.ProcessorCount;
    /// <summary>Frames through the vision tower in each pass of the "under load" scenario.</summary>
    public int LoadVisionFrames { get; init; } = 2;
    /// <summary>Frame counts of the scaling scenario on the bench's model (empty: no scaling scenario).</summary>
    public IReadOnlyList<int> ScalingFrames { get; init; } = [8, 32, 64, 128, 256];
    /// <summary>The scaling scenario runs the vision tower up to this many frames (it costs seconds per frame).</summary>
    public int ScalingVisionUpTo { get; init; } = 32;
    /// <summary>Frame counts of the scaling scenario on the tiny model (the full one would take hours at 1024).</summary>
    public IReadOnlyList<int> ScalingTinyFrames { get; init; } = [8, 1024];

    public int EffectiveThreads => Threads > 0 ? Threads : Environment.ProcessorCount;

    /// <summary>The CI form: a tiny checkpoint, 2 frames, short answers, small probes; seconds.</summary>
    public static BenchSettings SmokeSettings(string checkpoint, string outDir) => new()
    {
        Size = CheckpointSize.Tiny, Checkpoint = checkpoint, OutDir = outDir, Frames = 2, PrefillFrames = 4, K = 8, MinK = 2,
        AnswerTokens = 4, Repeats = 1, SearchFullSample = 1, MatmulSize = 256, MemcpyBytes = 8L << 20, Smoke = true, LoadVisionFrames = 1,
        ScalingFrames = [2, 4], ScalingVisionUpTo = 2, ScalingTinyFrames = [],
    };
}
