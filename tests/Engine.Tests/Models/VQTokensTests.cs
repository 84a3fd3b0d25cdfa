using VQToken.Engine.Compression;
using VQToken.Engine.Models;
using VQToken.Engine.Tests.Runtime;
using static TorchSharp.torch;

namespace VQToken.Engine.Tests.Models;

/// <summary>The codebook path must not need the index map (asks on long videos would otherwise build a
/// T·g·g tensor every time); the attention path reads it and says so when it is missing.</summary>
public sealed class VQTokensTests : IClassFixture<TinyCheckpointFixture>
{
    private readonly TinyCheckpointFixture _checkpoint;

    public VQTokensTests(TinyCheckpointFixture checkpoint) => _checkpoint = checkpoint;

    [Fact]
    public void Codebook_tokens_need_no_index_map_and_the_attention_path_refuses_to_run_without_one()
    {
        using var model = LlavaOneVision.Load(_checkpoint.Directory, CPU, ScalarType.Float32);
        using var scope = NewDisposeScope();
        using var generator = new Generator(3);
        var codebook = randn([5, model.Config.Text.HiddenSize], generator: generator);

        var tokens = model.VQTokens(null, codebook, TokenPath.Codebook);

        Assert.Equal([6L, model.Config.Text.HiddenSize], tokens.shape);
        Assert.True(tokens.narrow(0, 0, 5).allclose(codebook));
        Assert.True(tokens[5].allclose(model.ImageNewline));
        Assert.Throws<ArgumentNullException>(() => model.VQTokens(null, codebook, TokenPath.Attention));
    }
}
