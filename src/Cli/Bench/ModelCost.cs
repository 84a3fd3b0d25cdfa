using VQToken.Engine.Runtime;
using VQToken.Engine.Checkpoints;

namespace VQToken.Cli.Bench;

/// <summary>Work and bytes of the model's stages, counted from the config's shapes (multiply-adds
/// count as 2 FLOPs; norms, activations and softmax are left out as they are a rounding error).</summary>
public static class ModelCost
{
    /// <summary>FLOPs of one frame through what the engine's vision stage times: the SigLIP tower
    /// (patch embedding + the kept encoder layers, LLaVA-OneVision drops the last) and the projector.</summary>
    public static double VisionFlopsPerFrame(LlavaConfig config)
    {
        var v = config.Vision;
        double p = v.NumPatches, d = v.HiddenSize, ff = v.IntermediateSize;
        double patch = 2 * p * (3.0 * v.PatchSize * v.PatchSize) * d;
        double attention = 2 * p * d * d * 4 + 2 * 2 * p * p * d;    // q, k, v, out projections + scores and weighted sum
        double mlp = 2 * 2 * p * d * ff;
        double layers = (v.NumHiddenLayers - 1) * (attention + mlp);
        double projector = 2 * p * (config.MmHiddenSize * (double)config.Text.HiddenSize + (double)config.Text.HiddenSize * config.Text.HiddenSize);
        return patch + layers + projector;
    }

    /// <summary>Weight bytes one decode step must read: every decoder layer, the final norm and the
    /// whole lm_head matrix (the embedding lookup reads one row, left out).</summary>
    public static long DecodeWeightBytes(LlavaConfig config, int elementSize)
    {
        var t = config.Text;
        long d = t.HiddenSize, kv = (long)t.NumKeyValueHeads * t.HeadDim, ff = t.IntermediateSize;
        long attention = d * d + d + 2 * (d * kv + kv) + d * d;      // q (+bias), k, v (+bias), o
        long layer = attention + 3 * d * ff + 2 * d;                 // + gate, up, down, two norms
        return (t.NumHiddenLayers * layer + d + (long)t.VocabSize * d) * elementSize;
    }

    /// <summary>Visual tokens of the full-token baseline: every frame's grid pooled by the spatial
    /// stride (27 → 14 per side), plus one newline token.</summary>
    public static int FullVisualTokens(LlavaConfig config, int frames)
    {
        int pooled = (config.Vision.GridSize + config.SpatialPoolStride - 1) / config.SpatialPoolStride;
        return frames * pooled * pooled + 1;
    }

    /// <summary>Visual tokens of VQToken with VQ-Attention: max(T, K) + the newline token.</summary>
    public static int VQVisualTokens(int frames, int k, Engine.Compression.TokenPath path) => VideoEncoding.VQTokenCount(path, frames, k);
}
