using System.Text.Json;
using System.Text.Json.Nodes;

namespace VQToken.Engine.Checkpoints;

/// <summary>Qwen2 decoder dimensions (top-level keys of a LLaVA-NeXT config.json).</summary>
public sealed record Qwen2Config(
    int HiddenSize, int IntermediateSize, int NumHiddenLayers, int NumAttentionHeads, int NumKeyValueHeads,
    int VocabSize, double RopeTheta, double RmsNormEps, bool TieWordEmbeddings, int MaxPositionEmbeddings)
{
    public int HeadDim => HiddenSize / NumAttentionHeads;
}

/// <summary>SigLIP vision tower dimensions; so400m-patch14-384 defaults when the config has none.</summary>
public sealed record SigLipConfig(
    int HiddenSize = 1152, int IntermediateSize = 4304, int NumHiddenLayers = 27, int NumAttentionHeads = 16,
    int ImageSize = 384, int PatchSize = 14, double LayerNormEps = 1e-6)
{
    /// <summary>Patches per side (27 for the real model).</summary>
    public int GridSize => ImageSize / PatchSize;
    public int NumPatches => GridSize * GridSize;
}

/// <summary>The checkpoint's config.json in the original LLaVA-NeXT layout (LlavaQwenForCausalLM).</summary>
public sealed record LlavaConfig(
    Qwen2Config Text, SigLipConfig Vision, int MmHiddenSize, string ProjectorType, int SpatialPoolStride,
    string SpatialPoolMode, int VQAttentionHeads, string TorchDtype)
{
    public const string FileName = "config.json";

    public static LlavaConfig Load(string checkpointDir)
    {
        var path = Path.Combine(checkpointDir, FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"checkpoint config not found: {path}", path);
        try
        {
            return Parse(JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? throw new InvalidDataException("empty"));
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    public static LlavaConfig Parse(JsonObject root)
    {
        int hidden = Int(root, "hidden_size");
        var text = new Qwen2Config(
            hidden, Int(root, "intermediate_size"), Int(root, "num_hidden_layers"), Int(root, "num_attention_heads"),
            Int(root, "num_key_value_heads", Int(root, "num_attention_heads")), Int(root, "vocab_size"),
            Dbl(root, "rope_theta", 10000.0), Dbl(root, "rms_norm_eps", 1e-6),
            root["tie_word_embeddings"]?.GetValue<bool>() ?? true, Int(root, "max_position_embeddings", 32768));
        if (text.HiddenSize % text.NumAttentionHeads != 0 || text.NumAttentionHeads % text.NumKeyValueHeads != 0)
            throw new InvalidDataException($"hidden_size {hidden} / heads {text.NumAttentionHeads} / kv heads {text.NumKeyValueHeads} are inconsistent");

        var vision = new SigLipConfig();
        if (root["vision_config"] is JsonObject v)
        {
            vision = new SigLipConfig(
                Int(v, "hidden_size", vision.HiddenSize), Int(v, "intermediate_size", vision.IntermediateSize),
                Int(v, "num_hidden_layers", vision.NumHiddenLayers), Int(v, "num_attention_heads", vision.NumAttentionHeads),
                Int(v, "image_size", vision.ImageSize), Int(v, "patch_size", vision.PatchSize),
                Dbl(v, "layer_norm_eps", vision.LayerNormEps));
        }
        var projector = root["mm_projector_type"]?.GetValue<string>() ?? "mlp2x_gelu";
        if (projector != "mlp2x_gelu") throw new InvalidDataException($"mm_projector_type '{projector}' is not supported (only mlp2x_gelu)");
        int vqHeads = root["vqtoken"] is JsonObject vq ? Int(vq, "num_heads", 8) : 8;
        return new LlavaConfig(text, vision, Int(root, "mm_hidden_size", vision.HiddenSize), projector,
            Int(root, "mm_spatial_pool_stride", 2), root["mm_spatial_pool_mode"]?.GetValue<string>() ?? "bilinear",
            vqHeads, root["torch_dtype"]?.GetValue<string>() ?? "bfloat16");
    }

    private static int Int(JsonObject o, string key, int? fallback = null) =>
        o[key] is { } n ? n.GetValue<int>() : fallback ?? throw new InvalidDataException($"config.json: missing '{key}'");

    private static double Dbl(JsonObject o, string key, double fallback) => o[key] is { } n ? n.GetValue<double>() : fallback;

    public string ToJson() => JsonSerializer.Serialize(this);
}
