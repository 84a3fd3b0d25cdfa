using TorchSharp;
using VQToken.Engine.Checkpoints;
using VQToken.Engine.Compression;
using static TorchSharp.torch;

namespace VQToken.Engine.Models;

/// <summary>LLaVA-OneVision (+ VQToken) loaded from a checkpoint directory in the original
/// LLaVA-NeXT layout: SigLIP tower → mlp2x_gelu projector → visual tokens (baseline pooled, the VQToken
/// codebook, or VQ-Attention over codebook + index map) spliced at the image position of a Qwen2 prompt.</summary>
public sealed class LlavaOneVision : IDisposable
{
    /// <summary>The id that marks the image position in prompt ids (LLaVA's IMAGE_TOKEN_INDEX).</summary>
    public const long ImageTokenIndex = -200;

    public LlavaConfig Config { get; }
    public SigLipVisionTower VisionTower { get; }
    public Projector Projector { get; }
    public Tensor ImageNewline { get; }
    /// <summary>Null when the checkpoint has no VQ-Attention weights (then only the codebook path runs).</summary>
    public VQAttention? VQAttention { get; }
    public Qwen2ForCausalLM Language { get; }
    public Device Device { get; }
    public ScalarType DType { get; }
    public string Directory { get; }
    /// <summary>Bytes of all weights as held on the device.</summary>
    public long WeightBytes { get; }
    /// <summary>Bytes the same weights take in float32.</summary>
    public long Float32WeightBytes { get; }
    /// <summary>Whether the linear weights (language model, vision encoder, projector) and the embedding table
    /// are held in bf16 under float32 compute.</summary>
    public bool Bf16Resident => Language.Bf16Resident;

    private LlavaOneVision(string dir, LlavaConfig config, SigLipVisionTower vision, Projector projector, Tensor newline,
        VQAttention? vq, Qwen2ForCausalLM language, Device device, ScalarType dtype, long weightBytes, long float32Bytes)
    {
        (Directory, Config, VisionTower, Projector, ImageNewline, VQAttention, Language, Device, DType, WeightBytes, Float32WeightBytes) =
            (dir, config, vision, projector, newline, vq, language, device, dtype, weightBytes, float32Bytes);
    }

    /// <summary>The kernel region a decode step of <paramref name="rows"/> sequences runs in, as the model
    /// runner opens it (for tools timing decode steps outside the engine).</summary>
    public IDisposable DecodeRegion(int rows) => Kernels.SkinnyLinear.For(rows, Device.type, DType, Bf16Resident);

    /// <summary>Positions up to which a prefill runs like a decode step (libtorch on the calling thread, the bf16
    /// kernel on its helpers): its norms and attention are too small to be worth waking libtorch's threads.</summary>
    public const int ShortPrefill = 256;

    /// <summary>The kernel region a prefill of <paramref name="positions"/> runs in: a decode-like region for a
    /// short prefill over bf16-held weights on a CPU with AVX-512 (the kernel takes every linear), else none.</summary>
    public IDisposable PrefillRegion(long positions) =>
        Bf16Resident && positions <= ShortPrefill && Kernels.Bf16RowsKernel.Takes(positions)
            ? Kernels.SkinnyLinear.For(1, Device.type, DType, bf16Weights: true) : default(Kernels.SkinnyLinear.Region);

    /// <summary>Loads a checkpoint directory (config.json + safetensors, single or sharded).</summary>
    /// <param name="residency">With <see cref="WeightResidency.Auto"/>, float32 compute on the CPU over a
    /// bf16 checkpoint keeps the linear weights and the embedding table in bf16.</param>
    public static LlavaOneVision Load(string dir, Device? device = null, ScalarType? dtype = null, WeightResidency residency = WeightResidency.Auto)
    {
        var dev = device ?? CPU;
        var type = dtype ?? (dev.type == DeviceType.CUDA ? ScalarType.BFloat16 : ScalarType.Float32);
        var config = LlavaConfig.Load(dir);
        using var checkpoint = new CheckpointReader(dir);
        ScalarType? weightType = residency == WeightResidency.Auto && dev.type == DeviceType.CPU && type == ScalarType.Float32
                                 && StoredAsBf16(checkpoint) ? ScalarType.BFloat16 : null;
        var parts = new List<IDisposable>();
        try
        {
            var vision = Track(parts, new SigLipVisionTower(config.Vision, type, dev, weightType));
            WeightLoader.Load(vision, checkpoint, SigLipVisionTower.Prefix, type, dev);
            var projector = Track(parts, new Projector(config.MmHiddenSize, config.Text.HiddenSize, type, dev, weightType));
            WeightLoader.Load(projector, checkpoint, Projector.Prefix, type, dev);
            var newline = Track(parts, WeightLoader.LoadTensor(checkpoint, "model.image_newline", [config.Text.HiddenSize], type, dev));
            var vq = VQAttention.TryLoad(checkpoint, config.VQAttentionHeads, type, dev);
            if (vq is not null) parts.Add(vq);
            var language = Track(parts, new Qwen2ForCausalLM(config.Text, type, dev, weightType));
            language.Load(checkpoint, type, dev);
            var weights = new nn.Module[] { vision, projector, language }.Concat(vq is null ? [] : [vq]).SelectMany(m => m.parameters()).ToList();
            long bytes = weights.Sum(p => p.NumberOfElements * p.ElementSize) + language.LmHeadBytes + newline.NumberOfElements * newline.ElementSize;
            long elements = weights.Sum(p => p.NumberOfElements) + language.LmHeadBytes / ElementSize(language) + newline.NumberOfElements;
            return new LlavaOneVision(dir, config, vision, projector, newline, vq, language, dev, type, bytes, 4 * elements);
        }
        catch
        {
            foreach (var p in parts) p.Dispose();
            throw;
        }
    }

    private static T Track<T>(List<IDisposable> parts, T item) where T : IDisposable
    {
        parts.Add(item);
        return item;
    }

    private static long ElementSize(Qwen2ForCausalLM language) => language.Bf16Resident || language.DType != ScalarType.Float32 ? 2 : 4;

    /// <summary>Whether the checkpoint stores the language model's embedding table in bfloat16.</summary>
    private static bool StoredAsBf16(CheckpointReader checkpoint) =>
        checkpoint.Contains("model.embed_tokens.weight") && checkpoint.Info("model.embed_tokens.weight").DType == "BF16";

    /// <summary>pixels [T, 3, S, S] → SigLIP features [T, P, Dv].</summary>
    public Tensor EncodeVision(Tensor pixels)
    {
        using var noGrad = no_grad();
        return VisionTower.forward(pixels.to(DType, Device));
    }

    /// <summary>SigLIP features [T, P, Dv] → projected [T, P, D].</summary>
    public Tensor Project(Tensor features)
    {
        using var noGrad = no_grad();
        return Projector.forward(features);
    }

    /// <summary>Baseline visual tokens: projected [T, P, D] → [T·ceil(g/2)² + 1, D].</summary>
    public Tensor FullTokens(Tensor projected) =>
        VideoTokens.PooledWithNewline(projected, ImageNewline, Config.SpatialPoolStride);

    /// <summary>VQToken visual tokens followed by the image_newline: the codebook [K, D] itself → [K + 1, D]
    /// (the published path), or VQ-Attention(index map [T, P], codebook) → [max(T, K) + 1, D].</summary>
    /// <exception cref="ArgumentException">The attention path on a checkpoint without VQ-Attention weights.</exception>
    public Tensor VQTokens(Tensor? indexMap, Tensor codebook, TokenPath path)
    {
        if (path == TokenPath.Attention && VQAttention is null)
            throw new ArgumentException("the checkpoint has no VQ-Attention weights (model.cross_attention.*): use the codebook token path");
        using var scope = NewDisposeScope();
        var book = codebook.to(DType, Device);
        if (path == TokenPath.Attention && indexMap is null) throw new ArgumentNullException(nameof(indexMap), "the attention token path reads the index map");
        var tokens = path == TokenPath.Codebook ? book : VQAttention!.forward(indexMap!.to(Device).reshape(indexMap.shape[0], -1), book);
        return cat([tokens, ImageNewline.view(1, -1)], 0).MoveToOuterDisposeScope();
    }

    /// <summary>Prompt ids with exactly one <see cref="ImageTokenIndex"/> + visual tokens [N, D] →
    /// input embeddings [1, L - 1 + N, D].</summary>
    public Tensor PromptEmbeddings(IReadOnlyList<long> ids, Tensor visual)
    {
        int at = -1;
        for (int i = 0; i < ids.Count; i++)
        {
            if (ids[i] != ImageTokenIndex) continue;
            if (at >= 0) throw new ArgumentException("prompt has more than one image position");
            at = i;
        }
        using var scope = NewDisposeScope();
        Tensor Embed(IEnumerable<long> part)
        {
            var arr = part.ToArray();
            return arr.Length == 0
                ? empty([0, Config.Text.HiddenSize], DType, Device)
                : Language.Embed(tensor(arr, device: Device).unsqueeze(0)).squeeze(0);
        }
        if (at < 0) return Embed(ids).unsqueeze(0).MoveToOuterDisposeScope();
        var embeds = cat([Embed(ids.Take(at)), visual.to(DType, Device), Embed(ids.Skip(at + 1))], 0);
        return embeds.unsqueeze(0).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        VisionTower.Dispose();
        Projector.Dispose();
        ImageNewline.Dispose();
        VQAttention?.Dispose();
        Language.Dispose();
    }
}
