using VQToken.Engine.Tests.Support;
using static TorchSharp.torch;

namespace VQToken.Engine.Tests.Models;

/// <summary>The whole Qwen2 decoder from a tiny random checkpoint against the managed reference.</summary>
public class Qwen2ForCausalLMTests
{
    private static readonly long[] Ids = [3, 17, 0, 39, 8, 8, 25];

    [Theory]
    [InlineData(1e6)]
    [InlineData(1e4)]
    public void Logits_match_the_managed_reference_with_rope_theta_from_the_config(double theta)
    {
        using var tiny = new TinyQwen2(TinyQwen2.Config4x2(theta, layers: 2));

        var actual = Logits(tiny);

        Assert.True(Managed.MaxAbsDiff(actual, tiny.Reference.Logits(Ids)) < 1e-4);
        // The same weights with the other theta give other logits: the config's theta is what is used.
        var otherTheta = new ReferenceQwen2(tiny.Config with { RopeTheta = theta == 1e6 ? 1e4 : 1e6 }, tiny.Weight);
        Assert.True(Managed.MaxAbsDiff(actual, otherTheta.Logits(Ids)) > 1e-3);
    }

    [Fact]
    public void Without_lm_head_weight_the_head_is_tied_to_the_embeddings()
    {
        using var tiny = new TinyQwen2(TinyQwen2.Config4x2(), ownLmHead: false);

        Assert.True(tiny.Model.TiedLmHead);
        Assert.True(Managed.MaxAbsDiff(Logits(tiny), tiny.Reference.Logits(Ids)) < 1e-4);
    }

    [Fact]
    public void With_lm_head_weight_the_head_is_its_own()
    {
        using var tiny = new TinyQwen2(TinyQwen2.Config4x2(), ownLmHead: true);

        Assert.False(tiny.Model.TiedLmHead);
        var actual = Logits(tiny);
        Assert.True(Managed.MaxAbsDiff(actual, tiny.Reference.Logits(Ids)) < 1e-4);
        var tiedReference = new ReferenceQwen2(tiny.Config, n => n == "lm_head.weight" ? null : tiny.Weight(n));
        Assert.True(Managed.MaxAbsDiff(actual, tiedReference.Logits(Ids)) > 1e-2);
    }

    private static double[][] Logits(TinyQwen2 tiny)
    {
        using var scope = NewDisposeScope();
        using var cache = tiny.Model.NewCache();
        var embeds = tiny.Model.Embed(tensor(Ids).unsqueeze(0));
        return Managed.Rows(tiny.Model.Forward(embeds, cache));
    }
}
