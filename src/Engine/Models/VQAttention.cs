using TorchSharp;
using TorchSharp.Modules;
using VQToken.Engine.Checkpoints;
using static TorchSharp.torch;

namespace VQToken.Engine.Models;

/// <summary>VQ-Attention (<c>model.cross_attention.*</c>): the index-map rows (cluster ids as floats,
/// one row of P ids per frame) are projected by <c>to_q_proj</c> (P → D) into queries, then one
/// post-norm transformer decoder layer (self-attention, cross-attention to the codebook, ReLU
/// feed-forward; PyTorch <c>TransformerDecoderLayer</c> semantics, eval mode) produces the
/// compressed tokens. Rows follow the official repeat/truncate rule: with T index rows and K codebook
/// rows, the shorter side is repeated cyclically to max(T, K) rows.</summary>
public sealed class VQAttention : nn.Module
{
    public const string Prefix = "model.cross_attention.";
    private readonly Linear to_q_proj;
    private readonly TransformerDecoder transformer_decoder;

    /// <summary>P: tokens per frame, the query width (729 for the real model).</summary>
    public long QueryDim { get; }
    public long ModelDim { get; }

    private VQAttention(long queryDim, long modelDim, long feedForward, int heads, ScalarType dtype, Device device) : base(nameof(VQAttention))
    {
        (QueryDim, ModelDim) = (queryDim, modelDim);
        to_q_proj = Layers.Linear(queryDim, modelDim, true, dtype, device);
        transformer_decoder = new TransformerDecoder(modelDim, feedForward, heads, dtype, device);
        RegisterComponents();
    }

    /// <summary>An unloaded instance (e.g. on the meta device, to list parameter names and shapes).</summary>
    internal static VQAttention Create(long queryDim, long modelDim, long feedForward, int heads, ScalarType dtype, Device device) =>
        new(queryDim, modelDim, feedForward, heads, dtype, device);

    /// <summary>Builds VQ-Attention with dims read from the weight shapes, or returns null when the
    /// checkpoint has no VQ-Attention weights (the codebook-only fallback applies then).</summary>
    public static VQAttention? TryLoad(CheckpointReader checkpoint, int heads, ScalarType dtype, Device device)
    {
        if (!checkpoint.Contains(Prefix + "to_q_proj.weight")) return null;
        var q = checkpoint.Info(Prefix + "to_q_proj.weight").Shape;                          // [D, P]
        var ff = WeightLoader.ShapeOf(checkpoint, Prefix + "transformer_decoder.layers.0.linear1.weight", "VQ-Attention feed-forward"); // [F, D]
        if (q[0] % heads != 0) throw new InvalidDataException($"VQ-Attention width {q[0]} is not divisible by {heads} heads");
        var module = new VQAttention(q[1], q[0], ff[0], heads, dtype, device);
        WeightLoader.Load(module, checkpoint, Prefix, dtype, device);
        return module;
    }

    /// <summary>indexMap [T, P] (cluster ids), codebook [K, D] → tokens [max(T, K), D].</summary>
    public Tensor forward(Tensor indexMap, Tensor codebook)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var dtype = to_q_proj.weight!.dtype;
        var queries = indexMap.to_type(dtype);
        var memory = codebook.to_type(dtype);
        long rows = Math.Max(queries.shape[0], memory.shape[0]);
        queries = RepeatRows(queries, rows);
        memory = RepeatRows(memory, rows);
        return transformer_decoder.forward(to_q_proj.forward(queries), memory).MoveToOuterDisposeScope();
    }

    /// <summary>Repeats the rows of x cyclically (x.repeat(n // len + 1)[:n]) to exactly n rows.</summary>
    private static Tensor RepeatRows(Tensor x, long n)
    {
        long len = x.shape[0];
        if (len == n) return x;
        return x.repeat(n / len + 1, 1).narrow(0, 0, n);
    }

    private sealed class TransformerDecoder : nn.Module
    {
        private readonly ModuleList<DecoderLayer> layers = new();

        public TransformerDecoder(long d, long ff, int heads, ScalarType dtype, Device device) : base(nameof(TransformerDecoder))
        {
            layers.Add(new DecoderLayer(d, ff, heads, dtype, device));
            RegisterComponents();
        }

        public Tensor forward(Tensor target, Tensor memory) => layers[0].forward(target, memory);
    }

    /// <summary>Post-norm decoder layer: x = norm1(x + SA(x)); x = norm2(x + MHA(x, mem)); x = norm3(x + FF(x)).</summary>
    private sealed class DecoderLayer : nn.Module
    {
        private readonly MultiheadAttention self_attn, multihead_attn;
        private readonly Linear linear1, linear2;
        private readonly LayerNorm norm1, norm2, norm3;

        public DecoderLayer(long d, long ff, int heads, ScalarType dtype, Device device) : base(nameof(DecoderLayer))
        {
            self_attn = new MultiheadAttention(d, heads, dtype, device);
            multihead_attn = new MultiheadAttention(d, heads, dtype, device);
            linear1 = Layers.Linear(d, ff, true, dtype, device);
            linear2 = Layers.Linear(ff, d, true, dtype, device);
            norm1 = Layers.LayerNorm(d, 1e-5, dtype, device);
            norm2 = Layers.LayerNorm(d, 1e-5, dtype, device);
            norm3 = Layers.LayerNorm(d, 1e-5, dtype, device);
            RegisterComponents();
        }

        public Tensor forward(Tensor x, Tensor memory)
        {
            using var scope = NewDisposeScope();
            x = norm1.forward(x + self_attn.forward(x, x));
            x = norm2.forward(x + multihead_attn.forward(x, memory));
            x = norm3.forward(x + linear2.forward(nn.functional.relu(linear1.forward(x))));
            return x.MoveToOuterDisposeScope();
        }
    }

    /// <summary>torch.nn.MultiheadAttention with packed in_proj (q, k, v stacked), no mask.</summary>
    private sealed class MultiheadAttention : nn.Module
    {
        private readonly Parameter in_proj_weight, in_proj_bias;
        private readonly Linear out_proj;
        private readonly int _heads;

        public MultiheadAttention(long d, int heads, ScalarType dtype, Device device) : base(nameof(MultiheadAttention))
        {
            in_proj_weight = Layers.Param(dtype, device, 3 * d, d);
            in_proj_bias = Layers.Param(dtype, device, 3 * d);
            out_proj = Layers.Linear(d, d, true, dtype, device);
            _heads = heads;
            RegisterComponents();
        }

        /// <summary>query [Lq, D], keyValue [Lk, D] → [Lq, D].</summary>
        public Tensor forward(Tensor query, Tensor keyValue)
        {
            using var scope = NewDisposeScope();
            long d = query.shape[1], hd = d / _heads;
            var w = in_proj_weight.chunk(3, 0);
            var bias = in_proj_bias.chunk(3, 0);
            Tensor Heads(Tensor y) => y.view(y.shape[0], _heads, hd).transpose(0, 1);   // [H, L, hd]
            var q = Heads(nn.functional.linear(query, w[0], bias[0]));
            var k = Heads(nn.functional.linear(keyValue, w[1], bias[1]));
            var v = Heads(nn.functional.linear(keyValue, w[2], bias[2]));
            var attended = nn.functional.scaled_dot_product_attention(q, k, v);           // [H, Lq, hd]
            return out_proj.forward(attended.transpose(0, 1).reshape(query.shape[0], d)).MoveToOuterDisposeScope();
        }
    }
}
