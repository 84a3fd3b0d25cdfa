using VQToken.Engine.Kernels;
using static TorchSharp.torch;

namespace VQToken.Engine.Tests.Kernels;

/// <summary>The attention kernel against libtorch's scaled_dot_product_attention on the same q, k, v.</summary>
public class AttentionKernelTests
{
    [Theory]
    [InlineData(1, 729, 16, 72)]   // one SigLIP frame
    [InlineData(2, 37, 3, 16)]     // two frames, a ragged last row block and key block
    [InlineData(1, 50, 2, 80)]     // the largest head size taken
    [InlineData(3, 9, 4, 8)]       // a head shorter than a vector
    [InlineData(1, 1, 1, 65)]      // one position; head size one past four vectors
    public void Matches_scaled_dot_product_attention(int frames, int positions, int heads, int headSize)
    {
        using var scope = NewDisposeScope();
        var (q, k, v) = Inputs(frames, positions, heads, headSize, seed: frames * 100 + positions);
        Assert.True(AttentionKernel.Takes(q, k, v, heads), "needs AVX-512: the kernel does not run on this CPU");

        var actual = AttentionKernel.Forward(q, k, v, heads);
        var exact = Reference(q.to(ScalarType.Float64), k.to(ScalarType.Float64), v.to(ScalarType.Float64), heads);
        var libtorch = Reference(q, k, v, heads);

        // Both float32 computations against the float64 one: ours within float32 rounding, as close as libtorch's.
        double ours = (actual.to(ScalarType.Float64) - exact).abs().max().item<double>();
        double theirs = (libtorch.to(ScalarType.Float64) - exact).abs().max().item<double>();
        Assert.True(ours <= Math.Max(2 * theirs, 1e-6), $"max abs error {ours:E2}, libtorch's {theirs:E2}");
    }

    /// <summary>The comparison above can fail: attention with a slightly wrong scale, or with the heads' key rows
    /// shifted by one position, lies far outside its tolerance.</summary>
    [Fact]
    public void A_wrong_scale_or_a_shifted_key_would_be_detected()
    {
        using var scope = NewDisposeScope();
        var (q, k, v) = Inputs(1, 729, 16, 72, seed: 5);
        var ours = AttentionKernel.Forward(q, k, v, heads: 16);
        var wrongScale = Reference(q * 1.01, k, v, 16);
        var shiftedKeys = Reference(q, k.roll(1, 1), v, 16);
        Assert.True((ours - wrongScale).abs().max().item<float>() > 1e-4);
        Assert.True((ours - shiftedKeys).abs().max().item<float>() > 1e-2);
    }

    /// <summary>q, k and v as column slices of one [T, P, 3·H·d] projection (rows 3·H·d apart) give the result of
    /// contiguous copies, bit for bit.</summary>
    [Fact]
    public void Strided_rows_of_a_fused_projection_are_read_in_place()
    {
        using var scope = NewDisposeScope();
        var fused = randn([2, 50, 3 * 4 * 24], generator: new Generator(21));
        Tensor q = fused.narrow(2, 0, 96), k = fused.narrow(2, 96, 96), v = fused.narrow(2, 192, 96);
        var strided = AttentionKernel.Forward(q, k, v, heads: 4);
        var copied = AttentionKernel.Forward(q.contiguous(), k.contiguous(), v.contiguous(), heads: 4);
        Assert.Equal(copied.data<float>().ToArray(), strided.data<float>().ToArray());
    }

    [Fact]
    public void One_thread_and_two_give_the_same_bits()
    {
        using var scope = NewDisposeScope();
        var (q, k, v) = Inputs(2, 100, 4, 24, seed: 9);
        var one = AttentionKernel.Forward(q, k, v, heads: 4, threads: 1);
        var two = AttentionKernel.Forward(q, k, v, heads: 4, threads: 2);
        Assert.Equal(one.data<float>().ToArray(), two.data<float>().ToArray());
    }

    /// <summary>Qwen2's prefill: query heads grouped over key heads, new positions after a cache (or none), each
    /// seeing the keys up to itself; q is a strided view as the rotary embedding leaves it.</summary>
    [Theory]
    [InlineData(14, 2, 64, 100, 0)]     // a first chunk: causal from position 0
    [InlineData(14, 2, 64, 63, 40)]     // a prompt after a cached prefix
    [InlineData(4, 4, 16, 9, 30)]       // one query head per key head, a ragged row block
    [InlineData(6, 2, 72, 2, 1)]        // two new positions after one cached
    public void Causal_matches_masked_attention_over_repeated_key_heads(int heads, int kvHeads, int headSize, int n, int past)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)(heads * 1000 + n * 10 + past));
        var q = (randn([1, n, heads, headSize], generator: generator) * 1.5).transpose(1, 2);                 // [1, H, n, d], strided
        var k = randn([1, kvHeads, past + n, headSize], generator: generator) * 1.5;
        var v = randn([1, kvHeads, past + n, headSize], generator: generator);
        Assert.True(AttentionKernel.TakesCausal(q, k, v), "needs AVX-512: the kernel does not run on this CPU");

        var actual = AttentionKernel.Causal(q, k, v);                                                           // [1, n, H·d]
        var allowed = arange(past + n).unsqueeze(0) <= arange(past, past + n).unsqueeze(1);
        Tensor Reference(ScalarType type) => nn.functional.scaled_dot_product_attention(q.to(type),
                k.to(type).repeat_interleave(heads / kvHeads, dim: 1), v.to(type).repeat_interleave(heads / kvHeads, dim: 1), allowed)
            .transpose(1, 2).reshape(1, n, heads * headSize);
        var exact = Reference(ScalarType.Float64);
        double ours = (actual.to(ScalarType.Float64) - exact).abs().max().item<double>();
        double theirs = (Reference(ScalarType.Float32).to(ScalarType.Float64) - exact).abs().max().item<double>();
        Assert.True(ours <= Math.Max(2 * theirs, 1e-6), $"max abs error {ours:E2}, libtorch's {theirs:E2}");
        // The oracle sees the mask: without it (every position seeing every key) the result is far off.
        if (n > 1)
        {
            var unmasked = nn.functional.scaled_dot_product_attention(q, k.repeat_interleave(heads / kvHeads, dim: 1), v.repeat_interleave(heads / kvHeads, dim: 1))
                .transpose(1, 2).reshape(1, n, heads * headSize);
            Assert.True((actual - unmasked).abs().max().item<float>() > 1e-2);
        }
    }

    private static (Tensor Q, Tensor K, Tensor V) Inputs(int frames, int positions, int heads, int headSize, int seed)
    {
        var generator = new Generator((ulong)seed);
        // Activations of the size SigLIP's projections produce (scores spread over several units).
        var q = randn([frames, positions, heads * headSize], generator: generator) * 1.5;
        var k = randn([frames, positions, heads * headSize], generator: generator) * 1.5;
        var v = randn([frames, positions, heads * headSize], generator: generator);
        return (q, k, v);
    }

    private static Tensor Reference(Tensor q, Tensor k, Tensor v, int heads)
    {
        long t = q.shape[0], p = q.shape[1], d = q.shape[2];
        Tensor Heads(Tensor y) => y.view(t, p, heads, d / heads).transpose(1, 2);
        return nn.functional.scaled_dot_product_attention(Heads(q), Heads(k), Heads(v))
            .transpose(1, 2).reshape(t, p, d);
    }
}
