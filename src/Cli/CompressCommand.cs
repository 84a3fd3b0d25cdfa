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
public sealed class CompressCommand : ICliCommand
{
    public string Name => "compress";

    public string Usage =>
        "compress <file.safetensors> [--mode adaptive|fixed] [--k N] [--min-k 12] [--elbow official|centered] [--threads N] [--seed N] [--tensor tokens]: " +
        "K-means a float32 [T, P, D] tensor (default: adaptive K in 12..32 with the official elbow; for adaptive, --k is the maximum); " +
        "prints one JSON line (adaptive: `curve`, the distortion per K from Kmin up, and the `k` the elbow rule chose from it)";

    public int Run(string[] args)
    {
        try
        {
            return Compress(new CliArgs(args));
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or IOException or KeyNotFoundException)
        {
            Console.Error.WriteLine($"compress: {e.Message}");
            return 1;
        }
    }

    private int Compress(CliArgs cli)
    {
        if (cli.Positional.Count != 1)
        {
            Console.Error.WriteLine("usage: vqtoken " + Usage);
            return 2;
        }
        if (!CompressionModes.TryParse(cli.Get("mode", "adaptive"), out var mode) || mode == CompressionMode.Full)
        {
            Console.Error.WriteLine($"--mode must be fixed or adaptive, got '{cli.Get("mode")}'");
            return 2;
        }
        if (!CompressionModes.TryParseElbow(cli.Get("elbow", "official"), out var elbow))
        {
            Console.Error.WriteLine($"--elbow must be official or centered, got '{cli.Get("elbow")}'");
            return 2;
        }
        int k = cli.GetInt("k", 32);
        var settings = mode == CompressionMode.VQTokenFixed
            ? CompressionSettings.Fixed(k, (ulong)cli.GetInt("seed", 0))
            : CompressionSettings.Adaptive(cli.GetInt("min-k", 12), k, (ulong)cli.GetInt("seed", 0), elbow);
        settings.Validate();
        torch.set_num_threads(cli.GetInt("threads", 2));

        using var scope = NewDisposeScope();
        using var file = new SafeTensorsFile(cli.Positional[0]);
        var tokens = file.Read(cli.Get("tensor", "tokens")).to(ScalarType.Float32);
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
            elbow = mode == CompressionMode.VQTokenAdaptive ? settings.Elbow.WireName() : null,
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
