using VQToken.Engine.Models;
using VQToken.Engine.Tests.Support;
using static TorchSharp.torch;

namespace VQToken.Engine.Tests.Models;

public class RotaryEmbeddingTests
{
    [Theory]
    [InlineData(8, 1e6, 0)]
    [InlineData(8, 1e4, 5)]
    [InlineData(64, 1e6, 1000)]
    public void Cos_and_sin_follow_position_times_theta_power_minus_2i_over_d(int headDim, double theta, long start)
    {
        using var scope = NewDisposeScope();
        const int n = 4;
        var (cos, sin) = new RotaryEmbedding(headDim, theta).CosSin(start, n, ScalarType.Float32, CPU);

        Assert.Equal([n, headDim], cos.shape);
        var c = cos.data<float>().ToArray();
        var s = sin.data<float>().ToArray();
        for (int row = 0; row < n; row++)
            for (int j = 0; j < headDim; j++)
            {
                int i = j % (headDim / 2);   // the two halves share frequencies (rotate-half layout)
                double angle = (start + row) * Math.Pow(theta, -2.0 * i / headDim);
                Assert.True(Math.Abs(c[row * headDim + j] - Math.Cos(angle)) < 2e-4, $"cos[{row},{j}]");
                Assert.True(Math.Abs(s[row * headDim + j] - Math.Sin(angle)) < 2e-4, $"sin[{row},{j}]");
            }
    }

    [Fact]
    public void Apply_rotates_pairs_i_and_i_plus_half_by_the_position_angle()
    {
        using var scope = NewDisposeScope();
        const int heads = 3, n = 5, d = 8;
        const long start = 7;
        const double theta = 1e4;
        var random = new Random(3);
        var x = Managed.Uniform(random, heads * n * d);
        var (cos, sin) = new RotaryEmbedding(d, theta).CosSin(start, n, ScalarType.Float32, CPU);

        var rotated = RotaryEmbedding.Apply(tensor(x, [1, heads, n, d]), cos, sin).data<float>().ToArray();

        for (int h = 0; h < heads; h++)
            for (int p = 0; p < n; p++)
            {
                int at = (h * n + p) * d;
                var expected = ReferenceQwen2.Rope(x.AsSpan(at, d).ToArray().Select(v => (double)v).ToArray(), start + p, theta);
                for (int j = 0; j < d; j++)
                    Assert.True(Math.Abs(rotated[at + j] - expected[j]) < 1e-5, $"head {h} position {start + p} dim {j}: {rotated[at + j]} vs {expected[j]}");
            }
    }

    [Theory]
    [InlineData(64, 1e6, 0)]
    [InlineData(64, 1e6, 37)]
    [InlineData(10, 1e4, 100000)]   // large angles
    public unsafe void CosSinRow_matches_CosSin_of_the_same_position(int headDim, double theta, long position)
    {
        using var scope = NewDisposeScope();
        var rotary = new RotaryEmbedding(headDim, theta);
        var (cos, sin) = rotary.CosSin(position, 1, ScalarType.Float32, CPU);
        var c = new float[headDim];
        var s = new float[headDim];
        fixed (float* pc = c, ps = s) rotary.CosSinRow(position, pc, ps);
        var expectedCos = cos.data<float>().ToArray();
        var expectedSin = sin.data<float>().ToArray();
        for (int i = 0; i < headDim; i++)
        {
            Assert.True(Math.Abs(expectedCos[i] - c[i]) <= 1e-6, $"cos[{i}]: {c[i]}, expected {expectedCos[i]}");
            Assert.True(Math.Abs(expectedSin[i] - s[i]) <= 1e-6, $"sin[{i}]: {s[i]}, expected {expectedSin[i]}");
        }
    }
}
