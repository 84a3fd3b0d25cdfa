using VQToken.Engine.Models;
using VQToken.Engine.Tests.Support;
using static TorchSharp.torch;

namespace VQToken.Engine.Tests.Checkpoints;

/// <summary>Strict loading: every tensor the model needs must be there with its shape; tensors the
/// model does not use are ignored; lm_head is tied to the embeddings unless the checkpoint has one.</summary>
public class WeightLoaderTests
{
    private const string Vision = "model.vision_tower.vision_tower.vision_model.";

    [Theory]
    [InlineData("model.layers.1.mlp.up_proj.weight", "[128, 64]")]
    [InlineData("model.layers.0.self_attn.k_proj.bias", "[32]")]
    [InlineData(Vision + "encoder.layers.1.self_attn.q_proj.bias", "[48]")]
    [InlineData(Vision + "embeddings.patch_embedding.weight", "[48, 3, 14, 14]")]
    [InlineData("model.mm_projector.0.weight", "[64, 48]")]
    [InlineData("model.image_newline", "[64]")]
    [InlineData("model.cross_attention.transformer_decoder.layers.0.norm2.weight", "[64]")]
    [InlineData("model.norm.weight", "[64]")]
    public void Missing_tensor_fails_loading_naming_the_tensor_and_its_expected_shape(string name, string expectedShape)
    {
        using var temp = new TempDir();
        var dir = FixtureModels.CopyWith(temp, "parity-a", t => t.Remove(name));

        var error = Assert.Throws<InvalidDataException>(() => LlavaOneVision.Load(dir).Dispose());

        Assert.Contains($"'{name}'", error.Message);
        Assert.Contains(expectedShape, error.Message);
    }

    [Theory]
    [InlineData("model.layers.0.self_attn.k_proj.weight", new long[] { 33, 64 }, "[32, 64]")]
    [InlineData("model.embed_tokens.weight", new long[] { 301, 64 }, "[300, 64]")]
    [InlineData(Vision + "embeddings.position_embedding.weight", new long[] { 16, 47 }, "[16, 48]")]
    [InlineData("model.mm_projector.2.bias", new long[] { 64, 1 }, "[64]")]
    [InlineData("model.image_newline", new long[] { 65 }, "[64]")]
    [InlineData("model.cross_attention.transformer_decoder.layers.0.self_attn.in_proj_weight", new long[] { 191, 64 }, "[192, 64]")]
    [InlineData("lm_head.weight", new long[] { 299, 64 }, "[300, 64]")]
    public void Misshaped_tensor_fails_loading_naming_the_tensor_the_expected_and_the_actual_shape(string name, long[] actual, string expectedShape)
    {
        using var temp = new TempDir();
        var dir = FixtureModels.CopyWith(temp, "parity-a", t => t.Set(name, zeros(actual)));

        var error = Assert.Throws<InvalidDataException>(() => LlavaOneVision.Load(dir).Dispose());

        Assert.Contains($"'{name}'", error.Message);
        Assert.Contains(expectedShape, error.Message);
        Assert.Contains("[" + string.Join(", ", actual) + "]", error.Message);
    }

    [Fact]
    public void Post_layernorm_pooling_head_and_the_dropped_last_vision_layer_are_ignored()
    {
        using var temp = new TempDir();
        // Without them at all…
        var without = FixtureModels.CopyWith(temp, "parity-a", t =>
        {
            foreach (var name in t.Names.Where(n => n.StartsWith(Vision + "post_layernorm.") || n.StartsWith(Vision + "encoder.layers.2.")).ToList())
                t.Remove(name);
        }, name: "without");
        // …and with a pooling head of arbitrary shapes added (as the real checkpoint has).
        var withHead = FixtureModels.CopyWith(temp, "parity-a", t =>
        {
            t.Set(Vision + "head.probe", ones(1, 1, 48));
            t.Set(Vision + "head.attention.in_proj_weight", ones(144, 48));
            t.Set(Vision + "head.mlp.fc1.weight", ones(7, 3));
            t.Set(Vision + "head.layernorm.bias", ones(5));
        }, name: "with-head");
        using var scope = NewDisposeScope();

        using var original = LlavaOneVision.Load(TestPaths.FixtureModel("parity-a"));
        var expected = FixtureRun.Stages(original, "parity-a");
        foreach (var dir in new[] { without, withHead })
        {
            using var model = LlavaOneVision.Load(dir);
            foreach (var ((stage, e), (_, a)) in expected.Zip(FixtureRun.Stages(model, "parity-a")))
                Assert.True(Managed.Identical(a, e), $"{Path.GetFileName(dir)}: {stage} differs");
        }
    }

    [Fact]
    public void Checkpoint_without_lm_head_weight_ties_the_head_to_the_embeddings()
    {
        using var model = LlavaOneVision.Load(TestPaths.FixtureModel("parity-a"));

        Assert.True(model.Language.TiedLmHead);
    }

    [Fact]
    public void Checkpoint_with_lm_head_weight_uses_its_own_head()
    {
        using var temp = new TempDir();
        // lm_head = 2 × embeddings: the logits (linear in the head) must double.
        var dir = FixtureModels.CopyWith(temp, "parity-a", t => t.Set("lm_head.weight", t["model.embed_tokens.weight"] * 2));
        using var scope = NewDisposeScope();
        using var tied = LlavaOneVision.Load(TestPaths.FixtureModel("parity-a"));
        using var own = LlavaOneVision.Load(dir);
        using var fromB = LlavaOneVision.Load(TestPaths.FixtureModel("parity-b"));

        Assert.False(own.Language.TiedLmHead);
        Assert.False(fromB.Language.TiedLmHead);
        var ids = FixtureRun.PromptIds("parity-a").Where(id => id >= 0).ToArray();
        Tensor Logits(LlavaOneVision m)
        {
            using var cache = m.Language.NewCache();
            return m.Language.Forward(m.Language.Embed(tensor(ids).unsqueeze(0)), cache);
        }
        var doubled = Logits(own);
        var single = Logits(tied);
        Assert.True(Managed.MaxAbsDiff(doubled, single * 2) < 1e-4, $"max abs diff {Managed.MaxAbsDiff(doubled, single * 2):E2}");
        Assert.True(Managed.MaxAbsDiff(doubled, single) > 1e-2);
    }

    [Theory]
    [InlineData("parity-a")]
    [InlineData("parity-b")]
    public void Weight_bytes_count_every_used_weight_once(string fixture)
    {
        using var checkpoint = TensorSet.ReadCheckpoint(TestPaths.FixtureModel(fixture));
        using var model = LlavaOneVision.Load(TestPaths.FixtureModel(fixture));
        int lastVisionLayer = model.Config.Vision.NumHiddenLayers - 1;
        bool Unused(string n) => n.StartsWith(Vision + "post_layernorm.") || n.StartsWith(Vision + "head.")
            || n.StartsWith($"{Vision}encoder.layers.{lastVisionLayer}.");

        long expected = checkpoint.Items.Where(kv => !Unused(kv.Key)).Sum(kv => kv.Value.NumberOfElements * 4L);

        Assert.Equal(expected, model.WeightBytes);
    }
}
