using VQToken.Engine.Models;
using VQToken.Engine.Tests.Runtime;
using static TorchSharp.torch;

namespace VQToken.Engine.Tests.Models;

[Collection(VQToken.Engine.Tests.Cli.WholeProcessCollection.Name)]
public sealed class ChunkedPrefillTests : IClassFixture<TinyCheckpointFixture>
{
    private readonly TinyCheckpointFixture _checkpoint;

    public ChunkedPrefillTests(TinyCheckpointFixture checkpoint) => _checkpoint = checkpoint;

    [Fact]
    public void A_prompt_prefilled_in_chunks_gives_the_logits_and_cache_of_one_pass()
    {
        using var model = LlavaOneVision.Load(_checkpoint.Directory, CPU, ScalarType.Float32);
        using var scope = NewDisposeScope();
        using var generator = new Generator(5);
        var embeds = randn([1, 700, model.Config.Text.HiddenSize], generator: generator);
        using var whole = model.Language.NewCache(720);
        using var chunked = model.Language.NewCache(720);

        model.Language.PrefillChunk = int.MaxValue;
        var expected = model.Language.Forward(embeds, whole);                        // [1, 700, V]
        var expectedNext = model.Language.DecodeBatch([3L], [whole]);
        model.Language.PrefillChunk = 256;                                           // 256 + 256 + 188
        var actual = model.Language.Forward(embeds, chunked);
        var actualNext = model.Language.DecodeBatch([3L], [chunked]);
        using var third = model.Language.NewCache(720);
        var lastOnly = model.Language.Forward(embeds, third, lastOnly: true);

        Assert.Equal(expected.shape, actual.shape);
        Assert.True(expected.allclose(actual, rtol: 1e-4, atol: 1e-4), $"max difference {(expected - actual).abs().max().item<float>()}");
        Assert.Equal(700, chunked.Length - 1);
        Assert.True(expectedNext.allclose(actualNext, rtol: 1e-4, atol: 1e-4));
        Assert.True(lastOnly.squeeze(1).allclose(expected[0, -1].unsqueeze(0), rtol: 1e-4, atol: 1e-4));
    }
}
