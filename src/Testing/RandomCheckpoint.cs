using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using VQToken.Engine.Checkpoints;
using VQToken.Engine.Models;
using VQToken.Engine.Text;
using static TorchSharp.torch;

namespace VQToken.Testing;

/// <summary>Sizes of generated random checkpoints: <c>tiny</c> for tests and the demo mode (seconds to
/// make and run), <c>full</c> with the real LLaVA-OneVision-0.5B dimensions for benchmarks.</summary>
public enum CheckpointSize { Tiny, Full }

/// <summary>Writes a random LLaVA-OneVision + VQToken checkpoint in the ORIGINAL layout (LLaVA-NeXT key
/// names, config.json, bf16 safetensors, optionally sharded with model.safetensors.index.json, the
/// unused SigLIP tensors included). Names and shapes come from the engine's own modules built on the
/// meta device, so the generator and the loader cannot drift apart.</summary>
public static class RandomCheckpoint
{
    /// <summary>The <c>Model:Demo</c> checkpoint: tiny, seed 0.</summary>
    public static void WriteDemo(string directory) => Write(directory, new Options(CheckpointSize.Tiny));

    /// <param name="VQAttention">Write the VQ-Attention weights (model.cross_attention.*); the released
    /// checkpoint has them, a plain LLaVA-OneVision one does not.</param>
    public sealed record Options(CheckpointSize Size = CheckpointSize.Tiny, long Seed = 0, int Shards = 0, ScalarType DType = ScalarType.BFloat16,
        bool VQAttention = true);

    /// <summary>Regular (non-special) token counts of the written tokenizer, per size.</summary>
    public static int RegularTokens(CheckpointSize size) => size == CheckpointSize.Full ? 151_643 : 1_000;

    public static JsonObject Config(CheckpointSize size)
    {
        bool full = size == CheckpointSize.Full;
        var config = new JsonObject
        {
            ["architectures"] = new JsonArray("LlavaQwenForCausalLM"),
            ["model_type"] = "llava",
            ["hidden_size"] = full ? 896 : 64,
            ["intermediate_size"] = full ? 4864 : 128,
            ["num_hidden_layers"] = full ? 24 : 2,
            ["num_attention_heads"] = full ? 14 : 4,
            ["num_key_value_heads"] = 2,
            ["vocab_size"] = full ? 151_936 : 1_024,
            ["rope_theta"] = 1_000_000.0,
            ["rms_norm_eps"] = 1e-6,
            ["tie_word_embeddings"] = full, // the real model ties lm_head; the tiny one has its own, so its answers do not just echo the input
            ["max_position_embeddings"] = 32_768,
            ["torch_dtype"] = "bfloat16",
            ["mm_vision_tower"] = "google/siglip-so400m-patch14-384",
            ["mm_projector_type"] = "mlp2x_gelu",
            ["mm_hidden_size"] = full ? 1152 : 32,
            ["mm_vision_select_layer"] = -2,
            ["mm_spatial_pool_mode"] = "bilinear",
            ["mm_spatial_pool_stride"] = 2,
            ["mm_newline_position"] = "one_token",
            ["mm_patch_merge_type"] = "spatial_unpad",
            ["image_aspect_ratio"] = "anyres_max_9",
            ["vqtoken_random_checkpoint"] = true,
        };
        // Real checkpoints carry no vision_config (the so400m defaults apply); the tiny one needs its own.
        if (!full)
        {
            config["vision_config"] = new JsonObject
            {
                ["hidden_size"] = 32, ["intermediate_size"] = 64, ["num_hidden_layers"] = 3, ["num_attention_heads"] = 2,
                ["image_size"] = 384, ["patch_size"] = 14, ["layer_norm_eps"] = 1e-6,
            };
            config["vqtoken"] = new JsonObject { ["num_heads"] = 4 };
        }
        return config;
    }

    /// <summary>Every tensor name and shape of the checkpoint for <paramref name="config"/>.</summary>
    public static List<(string Name, long[] Shape)> Layout(LlavaConfig config, long vqFeedForward)
    {
        var list = new List<(string, long[])>();
        void Add(nn.Module module, string prefix)
        {
            foreach (var (name, p) in module.named_parameters()) list.Add((prefix + name, p.shape));
            module.Dispose();
        }
        var meta = META;
        var v = config.Vision;
        Add(new SigLipVisionTower(v, ScalarType.Float32, meta), SigLipVisionTower.Prefix);
        // The layer LLaVA-OneVision drops, post_layernorm and the pooling head: present, never loaded.
        Add(new SigLipEncoderLayer(v, ScalarType.Float32, meta), $"{SigLipVisionTower.Prefix}encoder.layers.{v.NumHiddenLayers - 1}.");
        string vp = SigLipVisionTower.Prefix;
        long dv = v.HiddenSize;
        list.AddRange([
            (vp + "post_layernorm.weight", [dv]), (vp + "post_layernorm.bias", [dv]),
            (vp + "head.probe", [1, 1, dv]),
            (vp + "head.attention.in_proj_weight", [3 * dv, dv]), (vp + "head.attention.in_proj_bias", [3 * dv]),
            (vp + "head.attention.out_proj.weight", [dv, dv]), (vp + "head.attention.out_proj.bias", [dv]),
            (vp + "head.layernorm.weight", [dv]), (vp + "head.layernorm.bias", [dv]),
            (vp + "head.mlp.fc1.weight", [v.IntermediateSize, dv]), (vp + "head.mlp.fc1.bias", [v.IntermediateSize]),
            (vp + "head.mlp.fc2.weight", [dv, v.IntermediateSize]), (vp + "head.mlp.fc2.bias", [dv]),
        ]);
        long d = config.Text.HiddenSize;
        Add(new Projector(config.MmHiddenSize, d, ScalarType.Float32, meta), Projector.Prefix);
        list.Add(("model.image_newline", [d]));
        Add(VQAttention.Create(v.NumPatches, d, vqFeedForward, config.VQAttentionHeads, ScalarType.Float32, meta), VQAttention.Prefix);
        Add(new Qwen2ForCausalLM(config.Text, ScalarType.Float32, meta), "");
        if (!config.Text.TieWordEmbeddings) list.Add(("lm_head.weight", [config.Text.VocabSize, d]));
        return list;
    }

    /// <summary>Writes a complete checkpoint (config.json, weights, tokenizer files) into
    /// <paramref name="dir"/>; returns the weight files.</summary>
    public static IReadOnlyList<string> Write(string dir, Options options)
    {
        var files = WriteWeights(dir, options);
        SyntheticTokenizer.Write(dir, RegularTokens(options.Size));
        VQToken.Engine.Runtime.HeapTrim.Release();   // the sampled tensors' freed memory, so a caller measuring its own peak starts clean
        return files;
    }

    /// <summary>Writes config.json and the weights into <paramref name="dir"/>; returns the weight files.</summary>
    public static IReadOnlyList<string> WriteWeights(string dir, Options options)
    {
        Directory.CreateDirectory(dir);
        var configJson = Config(options.Size);
        File.WriteAllText(Path.Combine(dir, LlavaConfig.FileName), configJson.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        var config = LlavaConfig.Parse(configJson);
        var layout = Layout(config, options.Size == CheckpointSize.Full ? 2048 : 128);
        if (!options.VQAttention) layout.RemoveAll(t => t.Name.StartsWith(VQAttention.Prefix, StringComparison.Ordinal));

        using var random = new Generator((ulong)options.Seed);
        TensorSource Source(string name, long[] shape) => new(name, options.DType, shape, () => Sample(name, shape, options.DType, random));

        int shards = options.Shards > 0 ? options.Shards : options.Size == CheckpointSize.Full ? 2 : 1;
        if (shards == 1)
        {
            var path = Path.Combine(dir, "model.safetensors");
            SafeTensorsWriter.Write(path, layout.Select(t => Source(t.Name, t.Shape)).ToList(), new Dictionary<string, string> { ["format"] = "pt" });
            return [path];
        }
        // Split into shards of about equal size, keeping the layout order; index.json maps every name.
        long total = layout.Sum(t => t.Shape.Aggregate(1L, (a, b) => a * b));
        var files = new List<string>();
        var weightMap = new JsonObject();
        int start = 0;
        for (int s = 0; s < shards; s++)
        {
            string file = $"model-{s + 1:D5}-of-{shards:D5}.safetensors";
            long budget = total * (s + 1) / shards, acc = layout.Take(start).Sum(t => t.Shape.Aggregate(1L, (a, b) => a * b));
            int end = start;
            while (end < layout.Count && (s == shards - 1 || acc < budget)) acc += layout[end++].Shape.Aggregate(1L, (a, b) => a * b);
            var part = layout.Skip(start).Take(end - start).ToList();
            SafeTensorsWriter.Write(Path.Combine(dir, file), part.Select(t => Source(t.Name, t.Shape)).ToList(), new Dictionary<string, string> { ["format"] = "pt" });
            foreach (var t in part) weightMap[t.Name] = file;
            files.Add(Path.Combine(dir, file));
            start = end;
        }
        var index = new JsonObject
        {
            ["metadata"] = new JsonObject { ["total_size"] = total * SafeTensorsDType.ElementSize(SafeTensorsDType.FromScalarType(options.DType)) },
            ["weight_map"] = weightMap,
        };
        File.WriteAllText(Path.Combine(dir, CheckpointReader.IndexFileName), index.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return files;
    }

    /// <summary>Norm weights ≈ 1, biases and other vectors small, matrices N(0, 1/fan_in) (outputs keep
    /// their scale through the layers, so even a random model's greedy answer depends on its input).</summary>
    private static Tensor Sample(string name, long[] shape, ScalarType dtype, Generator random)
    {
        using var scope = NewDisposeScope();
        var noise = randn(shape, generator: random);
        bool normWeight = name.Contains("norm") && name.EndsWith(".weight");
        var value = normWeight ? 1 + 0.02 * noise
            : name.EndsWith("embed_tokens.weight") ? noise
            : shape.Length >= 2 ? noise / Math.Sqrt(shape.Skip(1).Aggregate(1L, (a, b) => a * b))
            : 0.02 * noise;
        return value.to_type(dtype).MoveToOuterDisposeScope();
    }
}
