using VQToken.Engine.Checkpoints;
using VQToken.Engine.Models;
using static TorchSharp.torch;

namespace VQToken.Engine.Tests.Support;

/// <summary>Tiny random Qwen2 checkpoints (LLaVA-NeXT key names) for the model tests: the weights as
/// managed arrays (for <see cref="ReferenceQwen2"/>) and a loaded <see cref="Qwen2ForCausalLM"/>.</summary>
internal sealed class TinyQwen2 : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly Dictionary<string, float[]> _arrays = new(StringComparer.Ordinal);

    public Qwen2Config Config { get; }
    public Qwen2ForCausalLM Model { get; }
    public ReferenceQwen2 Reference { get; }

    public static Qwen2Config Config4x2(double ropeTheta = 1e6, int layers = 1) =>
        new(HiddenSize: 16, IntermediateSize: 24, NumHiddenLayers: layers, NumAttentionHeads: 4, NumKeyValueHeads: 2,
            VocabSize: 40, RopeTheta: ropeTheta, RmsNormEps: 1e-6, TieWordEmbeddings: true, MaxPositionEmbeddings: 512);

    /// <summary>Writes a random checkpoint for <paramref name="config"/> (with its own
    /// <c>lm_head.weight</c> when <paramref name="ownLmHead"/>) and loads it in float32 on the CPU.</summary>
    public TinyQwen2(Qwen2Config config, bool ownLmHead = false, int seed = 1)
    {
        Config = config;
        var random = new Random(seed);
        int d = config.HiddenSize, hd = config.HeadDim, f = config.IntermediateSize;
        void Add(string name, float center, float spread, params int[] shape) =>
            _arrays[name] = Enumerable.Range(0, shape.Aggregate(1, (a, b) => a * b))
                .Select(_ => center + spread * (float)(2 * random.NextDouble() - 1)).ToArray();

        var shapes = new Dictionary<string, int[]>(StringComparer.Ordinal);
        void Param(string name, float center, float spread, params int[] shape)
        {
            Add(name, center, spread, shape);
            shapes[name] = shape;
        }
        Param("model.embed_tokens.weight", 0, 1f, config.VocabSize, d);
        for (int i = 0; i < config.NumHiddenLayers; i++)
        {
            var p = $"model.layers.{i}.";
            Param(p + "input_layernorm.weight", 1, 0.2f, d);
            Param(p + "post_attention_layernorm.weight", 1, 0.2f, d);
            Param(p + "self_attn.q_proj.weight", 0, 0.4f, config.NumAttentionHeads * hd, d);
            Param(p + "self_attn.q_proj.bias", 0, 0.2f, config.NumAttentionHeads * hd);
            Param(p + "self_attn.k_proj.weight", 0, 0.4f, config.NumKeyValueHeads * hd, d);
            Param(p + "self_attn.k_proj.bias", 0, 0.2f, config.NumKeyValueHeads * hd);
            Param(p + "self_attn.v_proj.weight", 0, 0.4f, config.NumKeyValueHeads * hd, d);
            Param(p + "self_attn.v_proj.bias", 0, 0.2f, config.NumKeyValueHeads * hd);
            Param(p + "self_attn.o_proj.weight", 0, 0.3f, d, config.NumAttentionHeads * hd);
            Param(p + "mlp.gate_proj.weight", 0, 0.3f, f, d);
            Param(p + "mlp.up_proj.weight", 0, 0.3f, f, d);
            Param(p + "mlp.down_proj.weight", 0, 0.3f, d, f);
        }
        Param("model.norm.weight", 1, 0.2f, d);
        if (ownLmHead) Param("lm_head.weight", 0, 0.5f, config.VocabSize, d);

        using (var tensors = new TensorSet())
        {
            foreach (var (name, shape) in shapes) tensors.Set(name, tensor(_arrays[name], shape.Select(s => (long)s).ToArray()));
            tensors.Write(_dir.Path);
        }
        Model = new Qwen2ForCausalLM(config, ScalarType.Float32, CPU);
        using (var reader = new CheckpointReader(_dir.Path)) Model.Load(reader, ScalarType.Float32, CPU);
        Reference = new ReferenceQwen2(config, Weight);
    }

    /// <summary>A weight as written, or null when the checkpoint has no such tensor.</summary>
    public float[]? Weight(string name) => _arrays.GetValueOrDefault(name);

    public void Dispose()
    {
        Model.Dispose();
        _dir.Dispose();
    }
}
