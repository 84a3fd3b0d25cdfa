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
}
