using System.Runtime.Intrinsics;
using VQToken.Engine.Kernels;
using static TorchSharp.torch;

namespace VQToken.Engine.Tests.Kernels;

public class ActivationsTests
{
    /// <summary>Against libtorch's tanh-GELU on values across its range (large negative and positive, near zero),
    /// long enough to split over threads, with a tail under a vector.</summary>
    [Theory]
    [InlineData(729 * 4304)]
    [InlineData(37)]
    public void Gelu_tanh_in_place_matches_libtorch(int n)
    {
        using var scope = NewDisposeScope();
        var x = randn([n], generator: new Generator(4)) * 4;
        x[0] = -30f; x[1] = 30f; x[2] = 0f; x[3] = 1e-6f;
        var expected = nn.functional.gelu(x, TorchSharp.Modules.GELU.Approximate.tanh);
        var ours = x.clone();

        var result = Activations.GeluTanh_(ours);

        Assert.Equal(ours.Handle, result.Handle);   // in place
        double diff = (ours - expected).abs().max().item<float>();
        Assert.True(diff < 2e-6, $"max abs diff {diff:E2}");
        // The comparison can fail: the erf GELU (the other approximation) differs well beyond the tolerance.
        Assert.True((ours - nn.functional.gelu(x)).abs().max().item<float>() > 1e-4);
    }

    /// <summary>The vector e^x against double precision over softmax's and GELU's range, relative error within 2 ulp;
    /// beyond the clamp it saturates (0 below, finite above) instead of overflowing to NaN.</summary>
    [Fact]
    public void Exp_is_within_two_ulp_of_double_precision()
    {
        if (!System.Runtime.Intrinsics.X86.Avx512F.IsSupported) throw new InvalidOperationException("needs AVX-512");
        double worst = 0;
        var lanes = new float[16];
        for (int i = 0; i < 200_000; i += 16)
        {
            for (int l = 0; l < 16; l++) lanes[l] = -87f + 175f * (i + l) / 200_000f;
            var e = Activations.Exp(System.Runtime.Intrinsics.Vector512.Create(lanes));
            for (int l = 0; l < 16; l++)
            {
                double exact = Math.Exp(lanes[l]);
                worst = Math.Max(worst, Math.Abs(e.GetElement(l) - exact) / exact);
            }
        }
        Assert.True(worst < 2 * 5.97e-8, $"worst relative error {worst:E2}");
        var edges = Activations.Exp(System.Runtime.Intrinsics.Vector512.Create(float.NegativeInfinity, -200f, 0f, 200f, 1f, -1f, 0.5f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f, 10f));
        Assert.Equal(0f, edges.GetElement(0));
        Assert.Equal(0f, edges.GetElement(1));
        Assert.Equal(1f, edges.GetElement(2));
        Assert.True(float.IsFinite(edges.GetElement(3)));
    }
}
