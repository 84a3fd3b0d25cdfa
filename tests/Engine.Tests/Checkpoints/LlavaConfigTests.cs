using System.Text.Json.Nodes;
using VQToken.Engine.Checkpoints;
using VQToken.Engine.Tests.Support;

namespace VQToken.Engine.Tests.Checkpoints;

public class LlavaConfigTests
{
    // The top-level keys of the real lmms-lab/llava-onevision-qwen2-0.5b-ov config (no vision_config, no vqtoken).
    private const string RealModelConfig = """
        {
          "architectures": ["LlavaQwenForCausalLM"], "model_type": "llava",
          "hidden_size": 896, "intermediate_size": 4864, "num_hidden_layers": 24,
          "num_attention_heads": 14, "num_key_value_heads": 2, "vocab_size": 151936,
          "rope_theta": 1000000.0, "rms_norm_eps": 1e-06, "tie_word_embeddings": true,
          "max_position_embeddings": 32768, "torch_dtype": "bfloat16",
          "mm_vision_tower": "google/siglip-so400m-patch14-384", "mm_projector_type": "mlp2x_gelu",
          "mm_hidden_size": 1152, "mm_spatial_pool_mode": "bilinear", "mm_spatial_pool_stride": 2
        }
        """;

    [Fact]
    public void Config_without_vision_config_uses_the_so400m_patch14_384_dimensions()
    {
        var config = LlavaConfig.Parse(JsonNode.Parse(RealModelConfig)!.AsObject());

        Assert.Equal(1152, config.Vision.HiddenSize);
        Assert.Equal(4304, config.Vision.IntermediateSize);
        Assert.Equal(27, config.Vision.NumHiddenLayers);
        Assert.Equal(16, config.Vision.NumAttentionHeads);
        Assert.Equal(384, config.Vision.ImageSize);
        Assert.Equal(14, config.Vision.PatchSize);
        Assert.Equal(1e-6, config.Vision.LayerNormEps);
        Assert.Equal(27, config.Vision.GridSize);
        Assert.Equal(729, config.Vision.NumPatches);
    }

    [Fact]
    public void Qwen2_dimensions_are_read_from_the_top_level_keys()
    {
        var config = LlavaConfig.Parse(JsonNode.Parse(RealModelConfig)!.AsObject());

        Assert.Equal(896, config.Text.HiddenSize);
        Assert.Equal(4864, config.Text.IntermediateSize);
        Assert.Equal(24, config.Text.NumHiddenLayers);
        Assert.Equal(14, config.Text.NumAttentionHeads);
        Assert.Equal(2, config.Text.NumKeyValueHeads);
        Assert.Equal(64, config.Text.HeadDim);
        Assert.Equal(151936, config.Text.VocabSize);
        Assert.Equal(1e6, config.Text.RopeTheta);
        Assert.Equal(1152, config.MmHiddenSize);
        Assert.Equal(2, config.SpatialPoolStride);
    }

    [Fact]
    public void Vqtoken_heads_default_to_8()
    {
        var withoutSection = LlavaConfig.Parse(JsonNode.Parse(RealModelConfig)!.AsObject());
        var withEmptySection = Parse(root => root["vqtoken"] = new JsonObject());
        var withHeads = Parse(root => root["vqtoken"] = new JsonObject { ["num_heads"] = 4 });

        Assert.Equal(8, withoutSection.VQAttentionHeads);
        Assert.Equal(8, withEmptySection.VQAttentionHeads);
        Assert.Equal(4, withHeads.VQAttentionHeads);
    }

    [Fact]
    public void Vision_config_of_a_fixture_overrides_the_defaults()
    {
        var config = LlavaConfig.Load(TestPaths.FixtureModel("parity-b"));

        Assert.Equal((40, 72, 4, 5, 70, 14), (config.Vision.HiddenSize, config.Vision.IntermediateSize,
            config.Vision.NumHiddenLayers, config.Vision.NumAttentionHeads, config.Vision.ImageSize, config.Vision.PatchSize));
        Assert.Equal(5, config.Vision.GridSize);
        Assert.Equal((56, 7, 1, 10000.0), (config.Text.HiddenSize, config.Text.NumAttentionHeads, config.Text.NumKeyValueHeads, config.Text.RopeTheta));
        Assert.Equal(8, config.VQAttentionHeads);
    }

    [Fact]
    public void Heads_that_do_not_divide_are_rejected()
    {
        Assert.Throws<InvalidDataException>(() => Parse(root => root["num_key_value_heads"] = 3));
        Assert.Throws<InvalidDataException>(() => Parse(root => root["num_attention_heads"] = 10));
    }

    [Fact]
    public void Missing_required_key_is_rejected_naming_it()
    {
        var error = Assert.Throws<InvalidDataException>(() => Parse(root => root.Remove("vocab_size")));
        Assert.Contains("vocab_size", error.Message);
    }

    [Fact]
    public void Unreadable_config_file_fails_as_invalid_data_naming_the_file()
    {
        using var temp = new TempDir();
        File.WriteAllText(temp.File("config.json"), """{"hidden_size": "wide"}""");

        var error = Assert.Throws<InvalidDataException>(() => LlavaConfig.Load(temp.Path));
        Assert.Contains(temp.File("config.json"), error.Message);
    }

    private static LlavaConfig Parse(Action<JsonObject> edit)
    {
        var root = JsonNode.Parse(RealModelConfig)!.AsObject();
        edit(root);
        return LlavaConfig.Parse(root);
    }
}
