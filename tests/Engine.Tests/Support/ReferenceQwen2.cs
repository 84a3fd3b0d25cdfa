using VQToken.Engine.Checkpoints;

namespace VQToken.Engine.Tests.Support;

/// <summary>A plain managed Qwen2 forward pass in double precision over flat weight arrays, written
/// from the Hugging Face definition (not from the engine): RMSNorm, rotate-half RoPE, GQA attention
/// (query head h reads kv head h / (H / Hkv)) with a causal mask, SwiGLU MLP, tied or own lm_head.</summary>
internal sealed class ReferenceQwen2(Qwen2Config config, Func<string, float[]?> weight)
{
    private float[] W(string name) => weight(name) ?? throw new KeyNotFoundException(name);

    /// <summary>Token ids → logits [L][V] for positions 0..L-1.</summary>
    public double[][] Logits(IReadOnlyList<long> ids)
    {
        var embed = W("model.embed_tokens.weight");
        var x = Decoder(ids.Select(id => Embedding(embed, id)).ToArray(), null);
        var head = weight("lm_head.weight") ?? embed;
        return x.Select(row => MatVec(head, RmsNorm(row, W("model.norm.weight"), config.RmsNormEps), config.VocabSize, null)).ToArray();
    }

    public double[] Embedding(float[] table, long id) =>
        Enumerable.Range(0, config.HiddenSize).Select(j => (double)table[id * config.HiddenSize + j]).ToArray();

    /// <summary>Input embeddings [L][D] → the attention weights of every position: [L][layer · H + head][0..i].</summary>
    public double[][][] AttentionWeights(double[][] embeds)
    {
        int heads = config.NumAttentionHeads;
        var weights = embeds.Select(_ => new double[config.NumHiddenLayers * heads][]).ToArray();
        Decoder(embeds, (layer, i, h, w) => weights[i][layer * heads + h] = w);
        return weights;
    }

    /// <summary>The decoder layers over input embeddings [L][D] (before the final norm); <paramref name="onWeights"/>
    /// receives (layer, position, head, softmax weights over 0..position).</summary>
    private double[][] Decoder(double[][] x, Action<int, int, int, double[]>? onWeights)
    {
        for (int layer = 0; layer < config.NumHiddenLayers; layer++)
        {
            var p = $"model.layers.{layer}.";
            var normed = x.Select(row => RmsNorm(row, W(p + "input_layernorm.weight"), config.RmsNormEps)).ToArray();
            var attended = Attention(normed, 0, config.NumAttentionHeads, config.NumKeyValueHeads, config.RopeTheta,
                W(p + "self_attn.q_proj.weight"), W(p + "self_attn.q_proj.bias"), W(p + "self_attn.k_proj.weight"),
                W(p + "self_attn.k_proj.bias"), W(p + "self_attn.v_proj.weight"), W(p + "self_attn.v_proj.bias"),
                W(p + "self_attn.o_proj.weight"), onWeights is null ? null : (i, h, w) => onWeights(layer, i, h, w));
            x = x.Select((row, i) => Add(row, attended[i])).ToArray();
            var mlpIn = x.Select(row => RmsNorm(row, W(p + "post_attention_layernorm.weight"), config.RmsNormEps)).ToArray();
            x = x.Select((row, i) => Add(row, Mlp(mlpIn[i], W(p + "mlp.gate_proj.weight"), W(p + "mlp.up_proj.weight"),
                W(p + "mlp.down_proj.weight"), config.IntermediateSize))).ToArray();
        }
        return x;
    }

    /// <summary>y = W x + b with W row-major [rows, x.Length].</summary>
    public static double[] MatVec(float[] w, double[] x, int rows, float[]? bias)
    {
        var y = new double[rows];
        for (int r = 0; r < rows; r++)
        {
            double s = bias?[r] ?? 0;
            for (int c = 0; c < x.Length; c++) s += w[r * x.Length + c] * x[c];
            y[r] = s;
        }
        return y;
    }

    public static double[] RmsNorm(double[] x, float[] w, double eps)
    {
        double meanSquare = x.Sum(v => v * v) / x.Length;
        double scale = 1 / Math.Sqrt(meanSquare + eps);
        return x.Select((v, i) => w[i] * v * scale).ToArray();
    }

    /// <summary>Rotate-half RoPE of one head vector at <paramref name="position"/>: pairs (i, i + d/2)
    /// rotate by the angle position · theta^(-2i/d).</summary>
    public static double[] Rope(double[] v, long position, double theta)
    {
        int d = v.Length, half = d / 2;
        var r = new double[d];
        for (int i = 0; i < half; i++)
        {
            double angle = position * Math.Pow(theta, -2.0 * i / d);
            double c = Math.Cos(angle), s = Math.Sin(angle);
            r[i] = v[i] * c - v[i + half] * s;
            r[i + half] = v[i + half] * c + v[i] * s;
        }
        return r;
    }

    /// <summary>Causal GQA self-attention of rows x [L][D] at positions start..start+L-1; <paramref name="onWeights"/>
    /// receives (row, head, softmax weights over rows 0..row).</summary>
    public static double[][] Attention(double[][] x, long start, int heads, int kvHeads, double theta,
        float[] wq, float[] bq, float[] wk, float[] bk, float[] wv, float[] bv, float[] wo, Action<int, int, double[]>? onWeights = null)
    {
        int d = x[0].Length, hd = d / heads, n = x.Length, group = heads / kvHeads;
        var q = x.Select(row => MatVec(wq, row, heads * hd, bq)).ToArray();
        var k = x.Select(row => MatVec(wk, row, kvHeads * hd, bk)).ToArray();
        var v = x.Select(row => MatVec(wv, row, kvHeads * hd, bv)).ToArray();
        double[] Head(double[] row, int h) => row.Skip(h * hd).Take(hd).ToArray();
        var output = new double[n][];
        for (int i = 0; i < n; i++)
        {
            var concat = new double[heads * hd];
            for (int h = 0; h < heads; h++)
            {
                int g = h / group;
                var qi = Rope(Head(q[i], h), start + i, theta);
                var scores = new double[i + 1];
                for (int j = 0; j <= i; j++)
                {
                    var kj = Rope(Head(k[j], g), start + j, theta);
                    scores[j] = qi.Zip(kj, (a, b) => a * b).Sum() / Math.Sqrt(hd);
                }
                double max = scores.Max();
                var weights = scores.Select(s => Math.Exp(s - max)).ToArray();
                double total = weights.Sum();
                onWeights?.Invoke(i, h, weights.Select(w => w / total).ToArray());
                for (int j = 0; j <= i; j++)
                {
                    var vj = Head(v[j], g);
                    for (int t = 0; t < hd; t++) concat[h * hd + t] += weights[j] / total * vj[t];
                }
            }
            output[i] = MatVec(wo, concat, d, null);
        }
        return output;
    }

    private static double[] Mlp(double[] x, float[] gate, float[] up, float[] down, int inter)
    {
        var g = MatVec(gate, x, inter, null);
        var u = MatVec(up, x, inter, null);
        var h = g.Select((a, i) => a / (1 + Math.Exp(-a)) * u[i]).ToArray();
        return MatVec(down, h, x.Length, null);
    }

    private static double[] Add(double[] a, double[] b) => a.Select((v, i) => v + b[i]).ToArray();
}
