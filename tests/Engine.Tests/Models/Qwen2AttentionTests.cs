using VQToken.Engine.Checkpoints;
using VQToken.Engine.Generation;
using VQToken.Engine.Models;
using VQToken.Engine.Tests.Support;
using static TorchSharp.torch;

namespace VQToken.Engine.Tests.Models;

/// <summary>Qwen2's grouped-query attention against a managed causal attention where query head h
/// reads kv head h / (H / Hkv); and the KV cache: a prefix, then the rest, equals all at once.</summary>
public class Qwen2AttentionTests
{
    [Theory]
    [InlineData(4, 2)]   // two query heads per kv head
    [InlineData(6, 1)]   // multi-query: every head reads the single kv head
    [InlineData(4, 4)]   // plain multi-head
    public void Grouped_query_attention_matches_a_managed_causal_attention(int heads, int kvHeads)
    {
        using var scope = NewDisposeScope();
        var config = Config(heads, kvHeads);
        using var attention = new Qwen2Attention(config, 0, ScalarType.Float32, CPU);
        var w = Managed.Randomize(attention, seed: 11);
        var x = RandomRows(6, config.HiddenSize, seed: 12);
        using var cache = NewCache(config, capacity: 16);

        var actual = Managed.Rows(attention.forward(Managed.Batch(x), Cos(config, 0, 6), Sin(config, 0, 6), cache));

        var expected = Reference(config, w, x);
        Assert.True(Managed.MaxAbsDiff(actual, expected) < 1e-5, $"max abs diff {Managed.MaxAbsDiff(actual, expected):E2}");
    }

    [Fact]
    public void A_wrong_head_grouping_would_be_detected()
    {
        // The reference must tell groupings apart, or the test above could not fail: swap the kv heads.
        using var scope = NewDisposeScope();
        var config = Config(4, 2);
        using var attention = new Qwen2Attention(config, 0, ScalarType.Float32, CPU);
        var w = Managed.Randomize(attention, seed: 11);
        var x = RandomRows(6, config.HiddenSize, seed: 12);
        using var cache = NewCache(config, capacity: 16);
        var actual = Managed.Rows(attention.forward(Managed.Batch(x), Cos(config, 0, 6), Sin(config, 0, 6), cache));

        int hd = config.HeadDim;
        float[] SwapHalves(float[] a, int rowLength) =>
            a.Skip(hd * rowLength).Take(hd * rowLength).Concat(a.Take(hd * rowLength)).ToArray();
        var swapped = new Dictionary<string, float[]>(w)
        {
            ["k_proj.weight"] = SwapHalves(w["k_proj.weight"], config.HiddenSize),
            ["k_proj.bias"] = SwapHalves(w["k_proj.bias"], 1),
            ["v_proj.weight"] = SwapHalves(w["v_proj.weight"], config.HiddenSize),
            ["v_proj.bias"] = SwapHalves(w["v_proj.bias"], 1),
        };
        Assert.True(Managed.MaxAbsDiff(actual, Reference(config, swapped, x)) > 1e-3);
    }

    [Fact]
    public void Prefix_in_the_cache_then_the_rest_equals_all_positions_at_once()
    {
        using var scope = NewDisposeScope();
        var config = Config(4, 2);
        using var attention = new Qwen2Attention(config, 0, ScalarType.Float32, CPU);
        var w = Managed.Randomize(attention, seed: 21);
        var x = RandomRows(7, config.HiddenSize, seed: 22);

        using var whole = NewCache(config, capacity: 16);
        var atOnce = Managed.Rows(attention.forward(Managed.Batch(x), Cos(config, 0, 7), Sin(config, 0, 7), whole));

        // Capacity 2 makes the cache grow (and copy its prefix) on the way; the chunks exercise the
        // prefill (no past), a multi-position step over a past, and single-position steps.
        using var stepwise = NewCache(config, capacity: 2);
        var rows = new List<double[]>();
        foreach (var (start, n) in new[] { (0, 3), (3, 2), (5, 1), (6, 1) })
        {
            var chunk = Managed.Batch(x.Skip(start).Take(n).ToArray());
            rows.AddRange(Managed.Rows(attention.forward(chunk, Cos(config, start, n), Sin(config, start, n), stepwise)));
            stepwise.Advance(n);
        }

        Assert.Equal(7, stepwise.Length);
        Assert.True(Managed.MaxAbsDiff(rows.ToArray(), atOnce) < 1e-5, $"max abs diff {Managed.MaxAbsDiff(rows.ToArray(), atOnce):E2}");
        Assert.True(Managed.MaxAbsDiff(atOnce, Reference(config, w, x)) < 1e-5);
    }

    private static Qwen2Config Config(int heads, int kvHeads) =>
        new(HiddenSize: heads * 4, IntermediateSize: 8, NumHiddenLayers: 1, NumAttentionHeads: heads, NumKeyValueHeads: kvHeads,
            VocabSize: 10, RopeTheta: 1e4, RmsNormEps: 1e-6, TieWordEmbeddings: true, MaxPositionEmbeddings: 64);

    private static KvCache NewCache(Qwen2Config c, long capacity) =>
        new(1, c.NumKeyValueHeads, c.HeadDim, ScalarType.Float32, CPU, capacity);

    private static double[][] RandomRows(int n, int d, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => Managed.Uniform(random, d).Select(v => (double)v).ToArray()).ToArray();
    }

    private static double[][] Reference(Qwen2Config c, Dictionary<string, float[]> w, double[][] x) =>
        ReferenceQwen2.Attention(x, 0, c.NumAttentionHeads, c.NumKeyValueHeads, c.RopeTheta,
            w["q_proj.weight"], w["q_proj.bias"], w["k_proj.weight"], w["k_proj.bias"],
            w["v_proj.weight"], w["v_proj.bias"], w["o_proj.weight"]);

    // cos/sin tables [n, hd] written directly from the formula (not with the engine's RotaryEmbedding).
    private static Tensor Cos(Qwen2Config c, long start, int n) => Table(c, start, n, Math.Cos);
    private static Tensor Sin(Qwen2Config c, long start, int n) => Table(c, start, n, Math.Sin);

    private static Tensor Table(Qwen2Config c, long start, int n, Func<double, double> f)
    {
        int d = c.HeadDim;
        var values = new float[n * d];
        for (int p = 0; p < n; p++)
            for (int j = 0; j < d; j++)
                values[p * d + j] = (float)f((start + p) * Math.Pow(c.RopeTheta, -2.0 * (j % (d / 2)) / d));
        return tensor(values, [n, d]);
    }
}
