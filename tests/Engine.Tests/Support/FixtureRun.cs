using VQToken.Engine.Checkpoints;
using VQToken.Engine.Compression;
using VQToken.Engine.Models;
using VQToken.Testing;
using static TorchSharp.torch;

namespace VQToken.Engine.Tests.Support;

/// <summary>Runs a loaded model on a parity fixture's inputs and returns every stage's output (for
/// comparing two loads of the same weights). Call inside a dispose scope.</summary>
internal static class FixtureRun
{
    public static IReadOnlyList<(string Stage, Tensor Output)> Stages(LlavaOneVision model, string fixture)
    {
        using var inputs = new SafeTensorsFile(Path.Combine(TestPaths.Fixture(fixture), "inputs.safetensors"));
        using var noGrad = no_grad();
        var features = model.EncodeVision(inputs.Read("pixel_values"));
        var projected = model.Project(features);
        var full = model.FullTokens(projected);
        var labels = inputs.Read("labels");
        var codebook = Codebook.FromLabels(projected, labels, (int)labels.max().item<long>() + 1);
        var vq = model.VQTokens(labels, codebook, FixtureParity.TokenPathOf(model));
        var ids = PromptIds(fixture);
        using var cache = model.Language.NewCache();
        var logits = model.Language.Forward(model.PromptEmbeddings(ids, vq), cache);
        return [("vision_features", features), ("projected", projected), ("full_tokens", full), ("vq_tokens", vq), ("logits_vq", logits)];
    }

    /// <summary>The fixture's prompt ids (one -200 image position).</summary>
    public static long[] PromptIds(string fixture)
    {
        using var inputs = new SafeTensorsFile(Path.Combine(TestPaths.Fixture(fixture), "inputs.safetensors"));
        using var ids = inputs.Read("input_ids");
        return ids.data<long>().ToArray();
    }
}
