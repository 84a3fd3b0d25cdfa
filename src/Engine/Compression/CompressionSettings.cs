using System.Globalization;
using System.Text.Json.Serialization;
using static System.FormattableString;
using VQToken.Ingestion;

namespace VQToken.Engine.Compression;

/// <summary>
/// How a video is turned into tokens: frames sampled, mode, K (fixed) or K range and elbow rule (adaptive), token
/// path. The one settings type of the API, the stores, the worker, the engine and the CLI; part of the dedupe and
/// cache keys (<see cref="CanonicalKey"/>), so the same bytes with different settings are two videos.
/// </summary>
/// <remarks>Records stored before <see cref="Elbow"/> and <see cref="Tokens"/> existed have them null and keep their
/// old meaning (centered elbow; VQ-Attention whenever the checkpoint has it): <see cref="Resolve"/> fixes them.
/// Records stored before the sampling settings (<see cref="Fps"/>, <see cref="MaxFrames"/>, <see cref="Start"/>,
/// <see cref="End"/>) have them null: uniform over the whole video, and their keys stay as they were.</remarks>
public sealed record CompressionSettings
{
    /// <summary>The one hard K limit: index map entries are int16. Configured limits (Video:MaxK) sit below it.</summary>
    public const int MaxSupportedK = short.MaxValue;

    /// <summary>Most frames any configuration may sample.</summary>
    public const int MaxSupportedFrames = 1024;

    /// <summary>Frames sampled uniformly over the video (LLaVA-OneVision's evaluations: 32); with <see cref="Fps"/>,
    /// equal to <see cref="MaxFrames"/> (the most frames the video can get).</summary>
    public int Frames { get; init; } = 32;

    /// <summary>Sampling by rate: frames per second of the source to keep (null: <see cref="Frames"/> uniform).</summary>
    public double? Fps { get; init; }

    /// <summary>Cap of <see cref="Fps"/> sampling: beyond it the frames are spread uniformly instead.</summary>
    public int? MaxFrames { get; init; }

    /// <summary>Time range [Start, End) of the source in seconds that is sampled (null: from the start / to the end).</summary>
    public double? Start { get; init; }
    public double? End { get; init; }

    public required CompressionMode Mode { get; init; }

    /// <summary>Codebook size of <see cref="CompressionMode.VQTokenFixed"/>.</summary>
    public int? K { get; init; }

    /// <summary>Bounds of <see cref="CompressionMode.VQTokenAdaptive"/>.</summary>
    public int? MinK { get; init; }
    public int? MaxK { get; init; }

    /// <summary>Elbow rule of <see cref="CompressionMode.VQTokenAdaptive"/> (null: a legacy record, centered).</summary>
    public ElbowIndexing? Elbow { get; init; }

    /// <summary>Token path of the VQToken modes (null: a legacy record, attention when the checkpoint has it).</summary>
    public TokenPath? Tokens { get; init; }

    /// <summary>Seed of the k-means++ sampling (a run knob of the CLI; the service always uses 0, so never stored).</summary>
    [JsonIgnore] public ulong Seed { get; init; }

    /// <summary>Lloyd iteration cap of the final fit (a run knob, never stored).</summary>
    [JsonIgnore] public int MaxIterations { get; init; } = 50;

    public static CompressionSettings Fixed(int frames, int k, TokenPath tokens = TokenPath.Codebook, ulong seed = 0) =>
        new() { Frames = frames, Mode = CompressionMode.VQTokenFixed, K = k, Tokens = tokens, Seed = seed };

    public static CompressionSettings Adaptive(int frames, int minK, int maxK, ElbowIndexing elbow = ElbowIndexing.Official,
        TokenPath tokens = TokenPath.Codebook, ulong seed = 0) =>
        new() { Frames = frames, Mode = CompressionMode.VQTokenAdaptive, MinK = minK, MaxK = maxK, Elbow = elbow, Tokens = tokens, Seed = seed };

    public static CompressionSettings FullTokens(int frames) => new() { Frames = frames, Mode = CompressionMode.Full };

    /// <summary>The published path of the released model: adaptive K in 12..32, official elbow, codebook tokens.</summary>
    public static CompressionSettings Published(int frames) => Adaptive(frames, 12, 32);

    /// <summary>The one mode → settings switch: <paramref name="k"/> is the fixed K, or the adaptive maxK.</summary>
    public static CompressionSettings For(CompressionMode mode, int frames, int k = 32, int minK = 12,
        ElbowIndexing elbow = ElbowIndexing.Official, TokenPath tokens = TokenPath.Codebook, ulong seed = 0) => mode switch
    {
        CompressionMode.VQTokenFixed => Fixed(frames, k, tokens, seed),
        CompressionMode.VQTokenAdaptive => Adaptive(frames, minK, k, elbow, tokens, seed),
        _ => FullTokens(frames),
    };

    /// <summary>Most frames these settings sample (the count of uniform sampling, the cap of sampling by rate).</summary>
    [JsonIgnore] public int MostFrames => Fps is null ? Frames : MaxFrames ?? Frames;

    /// <summary>What ingestion samples for these settings.</summary>
    public FrameRequest ToFrameRequest() => new(MostFrames, Fps, Start, End);

    /// <summary>The elbow rule this record means (legacy adaptive records: centered).</summary>
    public ElbowIndexing EffectiveElbow => Elbow ?? ElbowIndexing.Centered;

    /// <summary>The token path this record means on a checkpoint with or without VQ-Attention weights.</summary>
    public TokenPath EffectiveTokens(bool hasVQAttention) => Tokens ?? (hasVQAttention ? TokenPath.Attention : TokenPath.Codebook);

    /// <summary>The settings with legacy nulls replaced by what they mean on this checkpoint (what the engine runs).</summary>
    public CompressionSettings Resolve(bool hasVQAttention) => Mode switch
    {
        CompressionMode.VQTokenFixed => this with { Tokens = EffectiveTokens(hasVQAttention) },
        CompressionMode.VQTokenAdaptive => this with { Elbow = EffectiveElbow, Tokens = EffectiveTokens(hasVQAttention) },
        _ => this,
    };

    /// <summary>The one validation: the problems by request field (empty when valid), against
    /// <paramref name="limits"/> (null: only the format's own limits).</summary>
    public Dictionary<string, string[]> Problems(CompressionLimits? limits = null)
    {
        limits ??= CompressionLimits.Format;
        var errors = new Dictionary<string, string[]>();
        SamplingProblems(limits, errors);
        switch (Mode)
        {
            case CompressionMode.VQTokenFixed:
                if (MinK is not null || MaxK is not null) errors["minK"] = ["minK/maxK apply to vqtoken-adaptive only"];
                if (Elbow is not null) errors["elbow"] = ["elbow applies to vqtoken-adaptive only"];
                if (K is not { } k || k < 1 || k > limits.MaxK) errors["k"] = [$"k must be between 1 and {limits.MaxK}{limits.Name("MaxK")}"];
                break;
            case CompressionMode.VQTokenAdaptive:
                if (K is not null) errors["k"] = ["k applies to vqtoken-fixed only"];
                if (MinK is not { } min || MaxK is not { } max || min < 1 || max > limits.MaxK || min > max)
                    errors["maxK"] = [$"minK and maxK must satisfy 1 <= minK <= maxK <= {limits.MaxK}{limits.Name("MaxK")}"];
                else if (max - min > limits.MaxAdaptiveKSpan)
                    errors["maxK"] = [$"maxK - minK must be at most {limits.MaxAdaptiveKSpan}{limits.Name("MaxAdaptiveKSpan")}"];
                break;
            default:
                if (K is not null) errors["k"] = ["k applies to vqtoken-fixed only"];
                if (MinK is not null || MaxK is not null) errors["minK"] = ["full takes no k, minK or maxK"];
                if (Elbow is not null) errors["elbow"] = ["elbow applies to vqtoken-adaptive only"];
                if (Tokens is not null) errors["tokens"] = ["full keeps all pooled frame tokens: tokens applies to the VQToken modes only"];
                break;
        }
        string field = K is null ? "maxK" : "k";
        if ((K ?? MaxK) is { } largestK && !errors.ContainsKey("k") && !errors.ContainsKey("maxK") && !errors.ContainsKey("frames")
            && !errors.ContainsKey("maxFrames") && (long)MostFrames * largestK > limits.MaxFramesTimesK)
            errors[field] = [$"frames x {field} = {(long)MostFrames * largestK} exceeds {limits.MaxFramesTimesK}{limits.Name("MaxFramesTimesK")}: use fewer frames or fewer clusters"];
        if (MaxIterations < 1) errors["maxIterations"] = ["the iteration cap must be at least 1"];
        return errors;
    }

    /// <summary>Problems of the sampling fields: a uniform count, or a rate with its cap; a time range inside the video.</summary>
    private void SamplingProblems(CompressionLimits limits, Dictionary<string, string[]> errors)
    {
        string allowed = $"between 1 and {limits.MaxFrames}{limits.Name("MaxFrames")}";
        if (Fps is not { } fps)
        {
            if (Frames < 1 || Frames > limits.MaxFrames) errors["frames"] = [$"frames must be {allowed}"];
            if (MaxFrames is not null) errors["maxFrames"] = ["maxFrames caps sampling by rate: give fps with it, or frames alone"];
        }
        else
        {
            if (!double.IsFinite(fps) || fps <= 0) errors["fps"] = ["fps must be a positive number of frames per second"];
            if (MaxFrames is not { } max || max < 1 || max > limits.MaxFrames) errors["maxFrames"] = [$"maxFrames must be {allowed}"];
            else if (Frames != max) errors["frames"] = ["frames (uniform) and fps (by rate) exclude each other: with fps, maxFrames caps the count"];
        }
        if (Start is { } start && (!double.IsFinite(start) || start < 0)) errors["start"] = ["start must be a time in seconds, 0 or more"];
        if (End is { } end)
        {
            if (!double.IsFinite(end) || end <= 0) errors["end"] = ["end must be a time in seconds after 0"];
            else if (Start is { } from && double.IsFinite(from) && from >= end) errors["end"] = [Invariant($"end ({end} s) must be after start ({from} s)")];
        }
    }

    /// <summary>Problems of the time range against the probed video (known only once its bytes are in):
    /// a range that starts or ends beyond the video's duration.</summary>
    public Dictionary<string, string[]> RangeProblems(double durationSeconds)
    {
        var errors = new Dictionary<string, string[]>();
        string duration = durationSeconds.ToString("0.###", CultureInfo.InvariantCulture);
        if (Start is { } start && start >= durationSeconds) errors["start"] = [Invariant($"start ({start} s) is not before the end of the video ({duration} s)")];
        if (End is { } end && end > durationSeconds) errors["end"] = [Invariant($"end ({end} s) is beyond the video's duration ({duration} s)")];
        return errors;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first problem (the engine's and the CLI's check).</summary>
    public void EnsureValid(CompressionLimits? limits = null)
    {
        if (Problems(limits).FirstOrDefault() is { Value: [var message, ..] }) throw new ArgumentException(message);
    }

    /// <summary>A canonical string for keys: "f32:vqtoken-adaptive:k12-32:official:codebook"; sampling by rate
    /// "fps1-max1024:…", a time range "f32@10-20:…". Legacy records (no elbow/tokens/sampling fields) keep their old keys.</summary>
    public string CanonicalKey => Mode switch
    {
        CompressionMode.VQTokenFixed => $"{SamplingKey}:vqtoken-fixed:k{K}{Suffix(Tokens?.WireName())}",
        CompressionMode.VQTokenAdaptive => $"{SamplingKey}:vqtoken-adaptive:k{MinK}-{MaxK}{Suffix(Elbow?.WireName())}{Suffix(Tokens?.WireName())}",
        _ => $"{SamplingKey}:full",
    };

    private string SamplingKey
    {
        get
        {
            var key = Fps is { } fps ? $"fps{Number(fps)}-max{MaxFrames}" : $"f{Frames}";
            return Start is null && End is null ? key : $"{key}@{(Start is { } s ? Number(s) : "")}-{(End is { } e ? Number(e) : "")}";
        }
    }

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Suffix(string? part) => part is null ? "" : ":" + part;
}

/// <summary>Bounds on one video's work (configured as Video:MaxFrames, Video:MaxK, Video:MaxAdaptiveKSpan,
/// Video:MaxFramesTimesK); <see cref="Format"/> is what the cached form itself can hold.</summary>
public sealed record CompressionLimits(int MaxFrames, int MaxK, int MaxAdaptiveKSpan, long MaxFramesTimesK, string? Section = null)
{
    public static readonly CompressionLimits Format = new(CompressionSettings.MaxSupportedFrames, CompressionSettings.MaxSupportedK,
        CompressionSettings.MaxSupportedK - 1, long.MaxValue);

    internal string Name(string limit) => Section is null ? "" : $" ({Section}:{limit})";
}
