using System.Text.Json.Serialization;
using VQToken.Engine.Checkpoints;
using VQToken.Engine.Compression;
using VQToken.Engine.Generation;
using VQToken.Engine.Models;
using VQToken.Engine.Runtime;
using VQToken.Engine.Text;
using static TorchSharp.torch;

namespace VQToken.Testing;

/// <summary>Max abs differences of every stage against a parity fixture (see shared/fixtures/README.md).</summary>
public sealed record ParityReport(
    [property: JsonPropertyName("vision_features")] double VisionFeatures,
    [property: JsonPropertyName("projected")] double Projected,
    [property: JsonPropertyName("full_tokens")] double FullTokens,
    [property: JsonPropertyName("logits_full")] double LogitsFull,
    [property: JsonPropertyName("logits_vq")] double LogitsVq,
    [property: JsonPropertyName("codebook")] double? Codebook,
    [property: JsonPropertyName("vq_tokens")] double? VqTokens,
    [property: JsonPropertyName("greedy_match")] bool GreedyMatch,
    [property: JsonPropertyName("tokens")] string Tokens,
    [property: JsonPropertyName("ok")] bool Ok);

/// <summary>Runs every stage of the engine on a fixture folder (model/, inputs.safetensors,
/// expected.safetensors) and compares with the reference outputs. The VQ stages run the attention path
/// when the fixture's checkpoint has VQ-Attention weights and the codebook path when it has none, which is
/// what the fixture format means (parity-official-codebook: the published path).</summary>
public static class FixtureParity
{
    public const double Tolerance = 1e-4;

    public static ParityReport Run(string fixtureDir)
    {
        using var model = LlavaOneVision.Load(Path.Combine(fixtureDir, "model"), CPU, ScalarType.Float32);
        using var inputs = new SafeTensorsFile(Path.Combine(fixtureDir, "inputs.safetensors"));
        using var expected = new SafeTensorsFile(Path.Combine(fixtureDir, "expected.safetensors"));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();

        double Diff(Tensor actual, string name)
        {
            var reference = expected.Read(name);
            if (!actual.shape.SequenceEqual(reference.shape))
                throw new InvalidDataException($"{name}: shape {WeightLoader.Shape(actual.shape)} differs from the reference {WeightLoader.Shape(reference.shape)}");
            return (actual.to_type(ScalarType.Float64) - reference.to_type(ScalarType.Float64)).abs().max().item<double>();
        }

        var features = model.EncodeVision(inputs.Read("pixel_values"));
        var projected = model.Project(features);
        var full = model.FullTokens(projected);
        var ids = inputs.Read("input_ids").data<long>().ToArray();

        var labels = inputs.Read("labels");                                                  // [T, P]
        int k = (int)expected.Tensors["codebook"].Shape[0];
        var codebook = Codebook.FromLabels(projected, labels, k);                           // [K, D]
        var path = TokenPathOf(model);
        var vq = model.VQTokens(labels, codebook, path);

        double Logits(Tensor visual, string name)
        {
            using var cache = model.Language.NewCache();
            return Diff(model.Language.Forward(model.PromptEmbeddings(ids, visual), cache).squeeze(0), name);
        }

        var greedyExpected = expected.Read("greedy_vq").data<long>().ToArray();
        // Greedy through the engine's scheduler and model runner, from the cached form of the video.
        var ask = new AskRequest("parity", Encoding(labels, codebook, path), ids.Select(i => (int)i).ToArray(),
            SamplingOptions.Greedy(greedyExpected.Length), UsePrefixCache: false);
        var greedy = TextGenerator.Generate(model, ask).Tokens.ToArray();

        var report = new ParityReport(
            Diff(features, "vision_features"), Diff(projected, "projected"), Diff(full, "full_tokens"),
            Logits(full, "logits_full"), Logits(vq, "logits_vq"), Diff(codebook, "codebook"), Diff(vq, "vq_tokens"),
            greedy.SequenceEqual(greedyExpected), path.WireName(), false);
        double[] diffs = [report.VisionFeatures, report.Projected, report.FullTokens, report.LogitsFull, report.LogitsVq,
            report.Codebook ?? 0, report.VqTokens ?? 0];
        return report with { Ok = report.GreedyMatch && diffs.All(d => d <= Tolerance) };
    }

    /// <summary>The token path a fixture's VQ stages are compared on: VQ-Attention when its checkpoint has those
    /// weights, the codebook when not (what the fixture format means).</summary>
    public static TokenPath TokenPathOf(LlavaOneVision model) => model.VQAttention is null ? TokenPath.Codebook : TokenPath.Attention;

    /// <summary>The video as the engine receives it from the cache: codebook + index map (labels [T, P]).</summary>
    public static VideoEncoding Encoding(Tensor labels, Tensor codebook, TokenPath path)
    {
        int frames = (int)labels.shape[0], grid = (int)Math.Round(Math.Sqrt(labels.shape[1]));
        var compressed = CompressedVideo.FromTensors(frames, grid, labels.reshape(-1), codebook, CompressionSettings.Fixed(frames, (int)codebook.shape[0], path));
        return new VideoEncoding
        {
            Mode = CompressionMode.VQTokenFixed, Compressed = compressed, Dim = compressed.Dim, Frames = frames,
            OriginalTokens = frames * grid * grid, VisualTokens = VideoEncoding.VQTokenCount(path, frames, compressed.K),
        };
    }
}
