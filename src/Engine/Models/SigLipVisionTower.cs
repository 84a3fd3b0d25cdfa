using TorchSharp;
using TorchSharp.Modules;
using VQToken.Engine.Checkpoints;
using VQToken.Engine.Kernels;
using static TorchSharp.torch;

namespace VQToken.Engine.Models;

/// <summary>SigLIP vision encoder as LLaVA-OneVision uses it: the LAST encoder layer is dropped and
/// the output is taken before <c>post_layernorm</c> (which, like the pooling head, is unused).
/// Module names follow <c>model.vision_tower.vision_tower.vision_model.*</c>.</summary>
public sealed class SigLipVisionTower : nn.Module<Tensor, Tensor>
{
    public const string Prefix = "model.vision_tower.vision_tower.vision_model.";
    private readonly SigLipEmbeddings embeddings;
    private readonly SigLipEncoder encoder;

    public SigLipConfig Config { get; }

    /// <param name="weightDType">bfloat16: the encoder's linear weights stay bf16 (computed in float32 by the bf16 kernel).</param>
    public SigLipVisionTower(SigLipConfig config, ScalarType dtype, Device device, ScalarType? weightDType = null) : base(nameof(SigLipVisionTower))
    {
        Config = config;
        embeddings = new SigLipEmbeddings(config, dtype, device);
        encoder = new SigLipEncoder(config, config.NumHiddenLayers - 1, dtype, device, weightDType); // last layer dropped
        RegisterComponents();
    }

    /// <summary>Frames through the encoder at a time on the CPU: each frame attends only within itself, so passes of a
    /// few frames keep the activations of a few; as many as keep the widest (the MLP's) within ~16 MB, so a real frame
    /// (~13 MB) goes alone and stays in the last-level cache, at most 4 (small models: fewer, larger temporaries).
    /// A GPU takes the batch.</summary>
    internal static int CpuFramesPerPass(SigLipConfig c) =>
        (int)Math.Clamp((16L << 20) / Math.Max(1L, (long)c.NumPatches * c.IntermediateSize * sizeof(float)), 1, 4);

    /// <summary>pixels [T, 3, S, S] in [-1, 1] → features [T, P, Dv] (P = (S/patch)²).</summary>
    public override Tensor forward(Tensor pixels)
    {
        using var scope = NewDisposeScope();
        long frames = pixels.shape[0];
        long step = pixels.device_type == DeviceType.CPU ? CpuFramesPerPass(Config) : frames;
        if (frames <= step) return encoder.forward(embeddings.forward(pixels)).MoveToOuterDisposeScope();
        Tensor? features = null;
        for (long from = 0; from < frames; from += step)
        {
            using var pass = NewDisposeScope();
            long count = Math.Min(step, frames - from);
            var part = encoder.forward(embeddings.forward(pixels.narrow(0, from, count)));   // [count, P, Dv]
            features ??= empty([frames, part.shape[1], part.shape[2]], part.dtype, part.device).MoveToOuterDisposeScope();
            features.narrow(0, from, count).copy_(part);
        }
        return features!.MoveToOuterDisposeScope();
    }
}

internal sealed class SigLipEmbeddings : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d patch_embedding;
    private readonly Embedding position_embedding;

    public SigLipEmbeddings(SigLipConfig c, ScalarType dtype, Device device) : base(nameof(SigLipEmbeddings))
    {
        patch_embedding = nn.Conv2d(3, c.HiddenSize, c.PatchSize, stride: c.PatchSize, device: device, dtype: dtype);
        position_embedding = nn.Embedding(c.NumPatches, c.HiddenSize, device: device, dtype: dtype);
        RegisterComponents();
    }

    public override Tensor forward(Tensor pixels)
    {
        using var scope = NewDisposeScope();
        var patches = patch_embedding.forward(pixels.to_type(patch_embedding.weight!.dtype)); // [T, Dv, g, g]
        var tokens = patches.flatten(2).transpose(1, 2);                                     // [T, P, Dv]
        return (tokens + position_embedding.weight!.unsqueeze(0)).MoveToOuterDisposeScope();
    }
}

internal sealed class SigLipEncoder : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<SigLipEncoderLayer> layers = new();

    public SigLipEncoder(SigLipConfig c, int layerCount, ScalarType dtype, Device device, ScalarType? weightDType) : base(nameof(SigLipEncoder))
    {
        for (int i = 0; i < layerCount; i++) layers.Add(new SigLipEncoderLayer(c, dtype, device, weightDType));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var input = x;
        foreach (var layer in layers)
        {
            var next = layer.forward(x);
            // Each layer's output is only the next one's input: free it now, not when the scope ends
            // (26 hidden states of [T, P, Dv] would otherwise be alive at once).
            if (!ReferenceEquals(x, input)) x.Dispose();
            x = next;
        }
        return x.MoveToOuterDisposeScope();
    }
}

internal sealed class SigLipEncoderLayer : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm layer_norm1, layer_norm2;
    private readonly SigLipAttention self_attn;
    private readonly SigLipMlp mlp;

    public SigLipEncoderLayer(SigLipConfig c, ScalarType dtype, Device device, ScalarType? weightDType = null) : base(nameof(SigLipEncoderLayer))
    {
        layer_norm1 = Layers.LayerNorm(c.HiddenSize, c.LayerNormEps, dtype, device);
        layer_norm2 = Layers.LayerNorm(c.HiddenSize, c.LayerNormEps, dtype, device);
        self_attn = new SigLipAttention(c, dtype, device, weightDType);
        mlp = new SigLipMlp(c, dtype, device, weightDType);
        RegisterComponents();
    }

    /// <summary>x + attn(norm1(x)), then + mlp(norm2(·)); each temporary is freed as soon as it is used.</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var normed = layer_norm1.forward(x);
        var hidden = self_attn.forward(normed).add_(x);
        normed.Dispose();
        normed = layer_norm2.forward(hidden);
        var output = mlp.forward(normed).add_(hidden);
        normed.Dispose();
        hidden.Dispose();
        return output.MoveToOuterDisposeScope();
    }
}

internal sealed class SigLipAttention : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> q_proj, k_proj, v_proj, out_proj;
    private readonly int _heads;

    public SigLipAttention(SigLipConfig c, ScalarType dtype, Device device, ScalarType? weightDType) : base(nameof(SigLipAttention))
    {
        // Held in bf16, back to back: one kernel pass projects q, k and v, read in place by the attention kernel.
        var qkv = Layers.HeldLinears(c.HiddenSize, [c.HiddenSize, c.HiddenSize, c.HiddenSize], true, dtype, device, weightDType);
        (q_proj, k_proj, v_proj) = (qkv[0], qkv[1], qkv[2]);
        out_proj = Layers.HeldLinear(c.HiddenSize, c.HiddenSize, true, dtype, device, weightDType);
        _heads = c.NumAttentionHeads;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long t = x.shape[0], p = x.shape[1], d = x.shape[2];
        Tensor Heads(Tensor y) => y.view(t, p, _heads, d / _heads).transpose(1, 2); // [T, H, P, hd]
        Tensor merged;
        using (NewDisposeScope())   // q, k, v and the heads' output go as soon as they are merged
        {
            Tensor q, k, v;
            if (q_proj is ColumnMajorLinear qp && k_proj is ColumnMajorLinear kp && v_proj is ColumnMajorLinear vp)
            {
                var qkv = ColumnMajorLinear.ForwardStacked([qp, kp, vp], x);                                          // column slices of [T, P, 3·D]
                (q, k, v) = (qkv[0], qkv[1], qkv[2]);
            }
            else (q, k, v) = (q_proj.forward(x), k_proj.forward(x), v_proj.forward(x));
            if (AttentionKernel.Takes(q, k, v, _heads))
                merged = AttentionKernel.Forward(q, k, v, _heads).MoveToOuterDisposeScope();
            else
                merged = nn.functional.scaled_dot_product_attention(Heads(q), Heads(k), Heads(v))
                    .transpose(1, 2).reshape(t, p, d).MoveToOuterDisposeScope();
        }
        return out_proj.forward(merged).MoveToOuterDisposeScope();
    }
}

internal sealed class SigLipMlp : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> fc1, fc2;

    public SigLipMlp(SigLipConfig c, ScalarType dtype, Device device, ScalarType? weightDType) : base(nameof(SigLipMlp))
    {
        fc1 = Layers.HeldLinear(c.HiddenSize, c.IntermediateSize, true, dtype, device, weightDType);
        fc2 = Layers.HeldLinear(c.IntermediateSize, c.HiddenSize, true, dtype, device, weightDType);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return fc2.forward(Activations.GeluTanh_(fc1.forward(x))).MoveToOuterDisposeScope();   // in place: the widest activation once
    }
}
