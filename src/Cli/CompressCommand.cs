using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using TorchSharp;
using VQToken.Engine.Checkpoints;
using VQToken.Engine.Compression;
using static TorchSharp.torch;

namespace VQToken.Cli;

/// <summary>`compress`: runs the VQToken discrete process on projected tokens stored in a safetensors
/// file and prints one JSON line {k, ms, inertia, rows, ...}; adaptive mode adds the elbow rule and the
/// distortion curve K was chosen from.</summary>
public sealed class CompressCommand : CliCommand
{
    private readonly Argument<string> _file = new("file.safetensors") { Description = "safetensors file holding a float32 [T, P, D] tensor" };
    private readonly ChoiceOption<CompressionMode> _mode = CliOptions.Choice("--mode", "fixed K, or adaptive K chosen by the elbow rule",
        (string? text, out CompressionMode mode) => CompressionModes.TryParse(text, out mode) && mode != CompressionMode.Full, "adaptive", "fixed");
    private readonly Option<int> _k = CliOptions.Int("--k", "K (fixed) or the largest K tried (adaptive)", 32, min: 1);
    private readonly Option<int> _minK = CliOptions.Int("--min-k", "smallest K tried (adaptive)", 12, min: 1);
    private readonly ChoiceOption<ElbowIndexing> _elbow = CliOptions.Elbow("elbow rule of the adaptive mode");
    private readonly Option<int> _threads = CliOptions.Int("--threads", "libtorch threads", 2, min: 1);
    private readonly Option<int> _seed = CliOptions.Int("--seed", "k-means++ seed", 0, min: 0);
    private readonly Option<string> _tensor = CliOptions.Text("--tensor", "name of the tensor in the file", "NAME", "tokens");

    public CompressCommand() : base("compress",
        "K-means a float32 [T, P, D] tensor (default: adaptive K in 12..32 with the official elbow; for adaptive, --k is the maximum); " +
        "prints one JSON line (adaptive: `curve`, the distortion per K from Kmin up, and the `k` the elbow rule chose from it).")
    {
        Add(_file);
        foreach (var option in new Option[] { _mode, _k, _minK, _elbow, _threads, _seed, _tensor }) Add(option);
    }

    protected override int Execute(ParseResult parsed)
    {
        try
        {
            return Compress(parsed);
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or IOException or KeyNotFoundException)
        {
            Console.Error.WriteLine($"compress: {e.Message}");
            return 1;
        }
    }

    private int Compress(ParseResult parsed)
    {
        var mode = _mode.ValueIn(parsed);
        int k = parsed.GetValue(_k);
        var seed = (ulong)parsed.GetValue(_seed);
        // Frames come from the tensor; the settings' frame count only has to be in range.
        var settings = CompressionSettings.For(mode, frames: 1, k, parsed.GetValue(_minK), _elbow.ValueIn(parsed), seed: seed);
        settings.EnsureValid();
        torch.set_num_threads(parsed.GetValue(_threads));

        using var scope = NewDisposeScope();
        using var file = new SafeTensorsFile(parsed.GetRequiredValue(_file));
        var tokens = file.Read(parsed.GetRequiredValue(_tensor)).to(ScalarType.Float32);
        if (tokens.dim() != 3) throw new ArgumentException($"expected [T, P, D] tokens, got shape [{string.Join(", ", tokens.shape)}]");
        WarmUp(tokens);

        var clock = Stopwatch.StartNew();
        var video = VideoCompressor.Compress(tokens, settings, out var curve);
        double ms = clock.Elapsed.TotalMilliseconds;

        var labels = video.IndexMapTensor();
        double inertia = KMeans.CosineInertia(tokens, labels, video.K);
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            k = video.K,
            ms = Math.Round(ms, 2),
            inertia = Math.Round(inertia, 4),
            rows = video.Tokens.Original,
            mode = settings.Mode.WireName(),
            ratio = Math.Round(video.Tokens.Ratio, 6),
            elbow = mode == CompressionMode.VQTokenAdaptive ? settings.EffectiveElbow.WireName() : null,
            min_k = mode == CompressionMode.VQTokenAdaptive ? settings.MinK : (int?)null,
            curve = curve?.Select(d => Math.Round(d, 4)).ToArray(),
        }, new JsonSerializerOptions { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull }));
        return 0;
    }

    /// <summary>One small matmul so that thread-pool and kernel start-up is not billed to compression.</summary>
    internal static void WarmUp(Tensor tokens)
    {
        using var scope = NewDisposeScope();
        var sample = tokens.reshape(-1, tokens.shape[^1])[..64];
        _ = sample.matmul(sample.t()).sum().item<float>();
    }
}
