using VQToken.Engine.Compression;

namespace VQToken.Cli.Eval;

/// <summary>What `eval` runs: dataset, model, modes and the generation limits.</summary>
public sealed record EvalSettings
{
    public required string Dataset { get; init; }
    public required string Checkpoint { get; init; }
    public required string OutDir { get; init; }
    public IReadOnlyList<CompressionMode> Modes { get; init; } = [CompressionMode.Full, CompressionMode.VQTokenFixed, CompressionMode.VQTokenAdaptive];
    public int Frames { get; init; } = 32;
    public int K { get; init; } = 32;
    public int MinK { get; init; } = 12;
    /// <summary>Elbow rule of the adaptive mode (default: the published one).</summary>
    public ElbowIndexing Elbow { get; init; } = ElbowIndexing.Official;
    /// <summary>Token path of the VQToken modes (default: the published codebook path).</summary>
    public TokenPath Tokens { get; init; } = TokenPath.Codebook;
    /// <summary>Answer tokens at most (a letter needs one or two).</summary>
    public int MaxNewTokens { get; init; } = 8;
    /// <summary>Strings that end an answer (not included), as the HTTP ask's <c>stop</c>.</summary>
    public IReadOnlyList<string> Stop { get; init; } = [];
    /// <summary>Only the first N samples of the file (a partial run; the next run resumes).</summary>
    public int? MaxSamples { get; init; }
    public string Device { get; init; } = "auto";
    public int Threads { get; init; }
    /// <summary>Let video URLs point at private or loopback addresses (local datasets, tests).</summary>
    public bool AllowPrivateUrls { get; init; }
}
