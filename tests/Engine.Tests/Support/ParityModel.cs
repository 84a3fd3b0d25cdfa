using VQToken.Engine.Checkpoints;
using VQToken.Engine.Compression;
using VQToken.Engine.Models;
using VQToken.Testing;
using VQToken.Engine.Runtime;
using static TorchSharp.torch;

namespace VQToken.Engine.Tests.Support;

/// <summary>parity-b's model (its greedy tokens vary, parity-a's repeat one id), loaded once per test
/// class, with its multimodal prompt embedded: prompt ids with the VQ tokens spliced at the image
/// position → [1, L, D].</summary>
public sealed class ParityModel : IDisposable
{
    public const string Fixture = "parity-b";

    internal LlavaOneVision Model { get; }
    internal Tensor PromptEmbeds { get; }
    internal long PromptLength => PromptEmbeds.shape[1];
    /// <summary>The same prompt as the engine takes it: ids with the image position, and the video's cached form.</summary>
    internal int[] PromptIds { get; }
    internal VideoEncoding Encoding { get; }

    public ParityModel()
    {
        Model = LlavaOneVision.Load(TestPaths.FixtureModel(Fixture));
        using var inputs = new SafeTensorsFile(Path.Combine(TestPaths.Fixture(Fixture), "inputs.safetensors"));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var projected = Model.Project(Model.EncodeVision(inputs.Read("pixel_values")));
        var labels = inputs.Read("labels");
        var codebook = Codebook.FromLabels(projected, labels, (int)labels.max().item<long>() + 1);
        var path = FixtureParity.TokenPathOf(Model);
        var vq = Model.VQTokens(labels, codebook, path);
        var ids = inputs.Read("input_ids").data<long>().ToArray();
        PromptEmbeds = Model.PromptEmbeddings(ids, vq).MoveToOuterDisposeScope();
        PromptIds = ids.Select(i => (int)i).ToArray();
        Encoding = FixtureParity.Encoding(labels, codebook, path);
    }

    public void Dispose()
    {
        PromptEmbeds.Dispose();
        Model.Dispose();
    }
}
