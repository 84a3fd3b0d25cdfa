using VQToken.Engine.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace VQToken.Engine.Tests.Kernels;

/// <summary>The linear layer over bf16-resident weights (<see cref="ColumnMajorLinear.Apply"/>) against
/// libtorch's float32 linear over the same weights widened: the bf16 kernel for any rows on AVX-512 (1–16
/// elsewhere), the widened float32 GEMM beyond.</summary>
[Collection(VQToken.Engine.Tests.Cli.WholeProcessCollection.Name)]   // regions switch libtorch's thread count
public sealed class Bf16LinearTests
{
    [Theory]
    [InlineData(1, 896, 896, true, true)]
    [InlineData(1, 64, 37, false, false)]     // one row outside a region; outputs not a multiple of 4
    [InlineData(2, 33, 128, true, true)]      // odd depth
    [InlineData(3, 100, 200, false, true)]    // depth tail under 16
    [InlineData(4, 1, 9, true, true)]         // depth 1
    [InlineData(7, 896, 4864, false, true)]
    [InlineData(8, 4864, 896, false, false)]
    [InlineData(9, 17, 300, true, true)]
    [InlineData(13, 128, 130, true, false)]
    [InlineData(16, 896, 1000, false, true)]
    public void Few_rows_run_the_bf16_kernel_and_match_libtorch(int rows, int inputs, int outputs, bool withBias, bool inRegion)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)(rows * 10_000 + inputs + outputs));
        var x = randn([rows, 1, inputs], generator: generator);
        var weight = (randn([outputs, inputs], generator: generator) * 0.1).to_type(ScalarType.BFloat16);
        var bias = withBias ? randn([outputs], generator: generator) : null;
        var expected = nn.functional.linear(x, weight.to_type(ScalarType.Float32), bias);

        long kernelCalls = Bf16Linear.KernelCallsOnThisThread, widened = Bf16Linear.WidenedCallsOnThisThread;
        Tensor actual;
        using (inRegion ? SkinnyLinear.For(rows, DeviceType.CPU, ScalarType.Float32, bf16Weights: true) : default)
            actual = ColumnMajorLinear.Apply(x, weight, bias);

        Assert.Equal(kernelCalls + 1, Bf16Linear.KernelCallsOnThisThread);
        Assert.Equal(widened, Bf16Linear.WidenedCallsOnThisThread);
        AssertClose(expected, actual);
    }

    [Theory]
    [InlineData(17, 64, 96, true)]
    [InlineData(100, 896, 4864, false)]
    [InlineData(300, 4864, 200, true)]        // many groups of rows
    public void More_rows_run_the_kernel_on_avx512_and_match_libtorch(int rows, int inputs, int outputs, bool withBias)
    {
        if (Bf16RowsKernel.Path != "avx512") throw new InvalidOperationException("this CPU has no AVX-512: the many-row kernel cannot be checked here");
        MoreRows(rows, inputs, outputs, withBias, widen: false);
    }

    [Theory]
    [InlineData(17, 64, 96, true)]
    [InlineData(100, 896, 4864, false)]
    [InlineData(40, 512, 20_000, true)]       // more than the widening buffer holds: widened a slice of rows at a time
    public void More_rows_without_avx512_widen_the_weight_and_match_libtorch(int rows, int inputs, int outputs, bool withBias)
    {
        lock (KernelPath)
        {
            Bf16RowsKernel.Forced = "avx2";
            try { MoreRows(rows, inputs, outputs, withBias, widen: true); }
            finally { Bf16RowsKernel.Forced = null; }
        }
    }

    private static readonly object KernelPath = new();

    private static void MoreRows(int rows, int inputs, int outputs, bool withBias, bool widen)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)(rows * 10_000 + inputs + outputs));
        var x = randn([1, rows, inputs], generator: generator);
        var weight = (randn([outputs, inputs], generator: generator) * 0.1).to_type(ScalarType.BFloat16);
        var bias = withBias ? randn([outputs], generator: generator) : null;
        var expected = nn.functional.linear(x, weight.to_type(ScalarType.Float32), bias);

        long kernelCalls = Bf16Linear.KernelCallsOnThisThread, widened = Bf16Linear.WidenedCallsOnThisThread;
        var actual = ColumnMajorLinear.Apply(x, weight, bias);
        var again = ColumnMajorLinear.Apply(x, weight, bias);   // reused buffers give the same result

        Assert.Equal(kernelCalls + (widen ? 0 : 2), Bf16Linear.KernelCallsOnThisThread);
        Assert.Equal(widened + (widen ? 2 : 0), Bf16Linear.WidenedCallsOnThisThread);
        AssertClose(expected, actual);
        Assert.Equal(0f, (actual - again).abs().max().item<float>());
    }

    [Fact]
    public void A_non_contiguous_input_is_read_as_its_values()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(3);
        var x = randn([64, 3], generator: generator).t();   // [3, 64], column-major
        var weight = randn([48, 64], generator: generator).to_type(ScalarType.BFloat16);
        AssertClose(nn.functional.linear(x, weight.to_type(ScalarType.Float32)), ColumnMajorLinear.Apply(x, weight));
    }

    private static void AssertClose(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.shape, actual.shape);
        Assert.Equal(ScalarType.Float32, actual.dtype);
        double scale = expected.abs().max().item<float>();
        double difference = (expected - actual).abs().max().item<float>();
        Assert.True(difference <= 1e-5 * Math.Max(1, scale), $"max difference {difference} (values up to {scale})");
    }
}
