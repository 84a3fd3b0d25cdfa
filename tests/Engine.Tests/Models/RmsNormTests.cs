using VQToken.Engine.Models;
using VQToken.Engine.Tests.Support;
using static TorchSharp.torch;

namespace VQToken.Engine.Tests.Models;

public class RmsNormTests
{
    [Theory]
    [InlineData(1e-6, 1.0f)]
    [InlineData(1e-2, 0.05f)]   // small inputs: eps visibly changes the result
    public void Output_is_weight_times_x_over_root_mean_square_plus_eps(double eps, float inputScale)
    {
        using var scope = NewDisposeScope();
        const int rows = 6, dim = 10;
        using var norm = new RmsNorm(dim, eps, ScalarType.Float32, CPU);
        var weight = Managed.Randomize(norm, seed: 5)["weight"];
        var x = Managed.Uniform(new Random(6), rows * dim, spread: inputScale);

        var y = norm.forward(tensor(x, [2, 3, dim])).data<float>().ToArray();

        for (int r = 0; r < rows; r++)
        {
            double meanSquare = 0;
            for (int j = 0; j < dim; j++) meanSquare += (double)x[r * dim + j] * x[r * dim + j];
            meanSquare /= dim;
            for (int j = 0; j < dim; j++)
            {
                double expected = weight[j] * x[r * dim + j] / Math.Sqrt(meanSquare + eps);
                Assert.True(Math.Abs(y[r * dim + j] - expected) < 1e-5, $"row {r} dim {j}: {y[r * dim + j]} vs {expected}");
            }
        }
    }

    [Fact]
    public void Bfloat16_input_gives_bfloat16_output_normalised_in_float32()
    {
        using var scope = NewDisposeScope();
        const int dim = 16;
        using var norm = new RmsNorm(dim, 1e-6, ScalarType.BFloat16, CPU);
        Managed.Randomize(norm, seed: 7);
        var x = Managed.Uniform(new Random(8), dim, spread: 3);

        var y = norm.forward(tensor(x, [1, dim]).to_type(ScalarType.BFloat16));

        Assert.Equal(ScalarType.BFloat16, y.dtype);
        using var weight = norm.named_parameters().Single().parameter.to_type(ScalarType.Float32);
        var w = weight.data<float>().ToArray();
        var xb = tensor(x).to_type(ScalarType.BFloat16).to_type(ScalarType.Float32).data<float>().ToArray();
        double rms = Math.Sqrt(xb.Sum(v => (double)v * v) / dim + 1e-6);
        var actual = y.to_type(ScalarType.Float32).data<float>().ToArray();
        for (int j = 0; j < dim; j++)
            Assert.True(Math.Abs(actual[j] - w[j] * xb[j] / rms) <= 0.02 * Math.Abs(w[j] * xb[j] / rms) + 1e-3, $"dim {j}");
    }
}
