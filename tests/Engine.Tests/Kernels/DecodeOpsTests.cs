using VQToken.Engine.Kernels;
using VQToken.Engine.Models;
using VQToken.Engine.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace VQToken.Engine.Tests.Kernels;

/// <summary>Each raw-memory op of the fused decode step against the libtorch composition the tensor path runs,
/// on random data, at the model's sizes and at sizes with vector tails.</summary>
public sealed unsafe class DecodeOpsTests
{
    [Theory]
    [InlineData(896, 1e-6, 1.0f)]
    [InlineData(37, 1e-6, 3.0f)]    // a 5-value tail after two vectors
    [InlineData(40, 1e-2, 0.05f)]   // small inputs: eps visibly changes the result
    public void RmsNorm_matches_the_module(int dim, double eps, float inputScale)
    {
        using var scope = NewDisposeScope();
        using var norm = new RmsNorm(dim, eps, ScalarType.Float32, CPU);
        var weight = Managed.Randomize(norm, seed: 11, spread: 2f)["weight"];
        var x = Managed.Uniform(new Random(12), dim, center: 0.3f, spread: inputScale);
        var expected = norm.forward(tensor(x, [1, dim])).data<float>().ToArray();

        var y = new float[dim];
        fixed (float* px = x, pw = weight, py = y) DecodeOps.RmsNorm(px, pw, (float)eps, py, dim);

        AssertClose(expected, y, 1e-6);
    }

    [Theory]
    [InlineData(14, 64, 37)]
    [InlineData(3, 10, 1000)]   // half 5: the scalar tail only
    [InlineData(2, 48, 5)]      // half 24: one vector and a tail
    public void Rotary_matches_the_tensor_rotation(int heads, int headDim, long position)
    {
        using var scope = NewDisposeScope();
        var (cos, sin) = new RotaryEmbedding(headDim, 1e6).CosSin(position, 1, ScalarType.Float32, CPU);
        var x = Managed.Uniform(new Random(13), heads * headDim, spread: 2);
        var expected = RotaryEmbedding.Apply(tensor(x, [1, heads, 1, headDim]), cos, sin).data<float>().ToArray();
        Assert.True(Managed.MaxAbsDiff(tensor(expected), tensor(x)) > 0.1, "the rotation left x as it was: a weak comparison");

        var c = cos.data<float>().ToArray();
        var s = sin.data<float>().ToArray();
        fixed (float* px = x, pc = c, ps = s) DecodeOps.Rotary(px, heads, headDim, pc, ps);

        AssertClose(expected, x, 1e-6);
    }

    [Theory]
    [InlineData(4864)]
    [InlineData(4871)]   // a 7-value tail
    public void SiluMul_matches_silu_of_gate_times_up(int n)
    {
        using var scope = NewDisposeScope();
        var gate = Managed.Uniform(new Random(14), n, spread: 8);
        var up = Managed.Uniform(new Random(15), n, spread: 2);
        var expected = (nn.functional.silu(tensor(gate)) * tensor(up)).data<float>().ToArray();

        fixed (float* pg = gate, pu = up) DecodeOps.SiluMul(pg, pu, n);

        AssertClose(expected, gate, 1e-6);
    }

    [Theory]
    [InlineData(896)]
    [InlineData(19)]
    public void Add_matches_the_tensor_sum(int n)
    {
        var into = Managed.Uniform(new Random(16), n);
        var from = Managed.Uniform(new Random(17), n);
        using var scope = NewDisposeScope();
        var expected = (tensor(into) + tensor(from)).data<float>().ToArray();

        fixed (float* pi = into, pf = from) DecodeOps.Add(pi, pf, n);

        AssertClose(expected, into, 0);
    }

    /// <summary>Grouped heads (7 query heads per kv head here, as in Qwen2-0.5B): a query head reading the wrong kv
    /// head, or a position past the filled ones (filled with large values), would change the result.</summary>
    [Theory]
    [InlineData(14, 2, 64, 1, 8)]
    [InlineData(14, 2, 64, 37, 50)]
    [InlineData(4, 4, 10, 9, 16)]   // no grouping, a head size with a scalar tail
    public void Attend_matches_scaled_dot_product_attention_over_the_filled_positions(int heads, int kvHeads, int headDim, int positions, int capacity)
    {
        using var scope = NewDisposeScope();
        var random = new Random(18);
        var q = Managed.Uniform(random, heads * headDim, spread: 2);
        var keys = Managed.Uniform(random, kvHeads * capacity * headDim, spread: 2);
        var values = Managed.Uniform(random, kvHeads * capacity * headDim, spread: 2);
        for (int g = 0; g < kvHeads; g++)
            for (int s = positions; s < capacity; s++)
                for (int i = 0; i < headDim; i++) keys[(g * capacity + s) * headDim + i] = values[(g * capacity + s) * headDim + i] = 100;
        var k = tensor(keys, [1, kvHeads, capacity, headDim]).narrow(2, 0, positions);
        var v = tensor(values, [1, kvHeads, capacity, headDim]).narrow(2, 0, positions);
        var expected = nn.functional.scaled_dot_product_attention(tensor(q, [1, kvHeads, heads / kvHeads, headDim]), k, v)
            .reshape(heads * headDim).data<float>().ToArray();

        var output = new float[heads * headDim];
        var scores = new float[positions];
        fixed (float* pq = q, pk = keys, pv = values, ps = scores, po = output)
            DecodeOps.Attend(pq, heads, kvHeads, headDim, pk, pv, capacity, positions, ps, po);

        AssertClose(expected, output, 1e-5);
    }

    [Theory]
    [InlineData(151936, -1, false)]
    [InlineData(37, -1, false)]
    [InlineData(4096, 2000, false)]   // the maximum twice (indices 2000 and 3000): the first one
    [InlineData(4096, 2000, true)]    // a NaN (at 2000, another at 3000): torch.argmax takes the first NaN
    [InlineData(21, 17, true)]        // in the scalar tail
    public void ArgMax_matches_torch_argmax(int n, int planted, bool nan)
    {
        var x = Managed.Uniform(new Random(n), n, spread: 20);
        x[n / 3] = float.NegativeInfinity;
        if (planted >= 0)
        {
            float value = nan ? float.NaN : 50;
            x[planted] = value;
            if (planted + 1000 < n) x[planted + 1000] = value;
        }
        using var scope = NewDisposeScope();
        var logits = tensor(x, [1, n]);
        long expected = logits.reshape(-1).argmax().item<long>();
        if (planted >= 0) Assert.Equal(planted, expected);

        Assert.True(DecodeOps.TakesArgMax(logits[0]));
        Assert.Equal(expected, DecodeOps.ArgMax(logits[0]));
    }

    private static void AssertClose(float[] expected, float[] actual, double relative)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= relative * Math.Max(1, Math.Abs(expected[i])) + 1e-7,
                $"[{i}]: {actual[i]}, expected {expected[i]}");
    }
}
