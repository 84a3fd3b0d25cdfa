using VQToken.Engine.Kernels;
using static TorchSharp.torch;

namespace VQToken.Engine.Tests.Kernels;

/// <summary>The bf16-weight kernel against libtorch: the same bf16 weights widened to float32 and multiplied there.</summary>
public class Bf16RowsKernelTests
{
    [Theory]
    [InlineData(1, 64, 40)]
    [InlineData(2, 896, 128)]
    [InlineData(3, 100, 37)]     // depth not a multiple of 16, outputs not a multiple of the group
    [InlineData(4, 1, 9)]        // depth 1
    [InlineData(5, 17, 3)]
    [InlineData(8, 896, 200)]
    [InlineData(9, 48, 11)]
    [InlineData(16, 4864, 64)]
    [InlineData(16, 15, 1)]
    [InlineData(17, 64, 40)]     // past the decode rows: AVX-512 takes any number (prefill, vision)
    [InlineData(600, 896, 100)]  // two groups of rows (432 per group at this depth)
    [InlineData(301, 4864, 50)]  // four groups (80 rows each at this depth), the last ragged
    [InlineData(729, 1150, 31)]  // a frame's patches, depth tails of 16 and 14
    [InlineData(3, 2000, 20)]    // 4-row block, depth in slices (past 1280), tail 0
    [InlineData(10, 1300, 7)]    // 8 + 2 rows, depth slices and a tail of 4
    [InlineData(40, 1500, 33)]   // 5 row blocks, 3 slices, a tail of 12
    public void Matches_a_float32_linear_over_the_same_bf16_weights(int rows, int depth, int outputs)
    {
        if (!Bf16RowsKernel.Takes(rows)) throw new InvalidOperationException($"the {Bf16RowsKernel.Path} path takes at most {Bf16RowsKernel.MaxRows} rows: this case needs AVX-512");
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)(rows * 1000 + depth * 10 + outputs));
        var x = randn([rows, depth], generator: generator);
        var w = randn([outputs, depth], generator: generator).to(ScalarType.BFloat16);            // the checkpoint's values
        var b = randn([outputs], generator: generator);
        var expected = nn.functional.linear(x, w.to(ScalarType.Float32), b);                     // [rows, outputs]

        var bits = Bits(w);
        var y = new float[rows * outputs];
        Bf16RowsKernel.Forward(x.data<float>().ToArray(), bits, b.data<float>().ToArray(), y, rows, depth, outputs, threads: 2);

        var actual = tensor(y, [rows, outputs]);
        double tolerance = 1e-5 * Math.Max(1, Math.Sqrt(depth)) * 4;
        double diff = (actual - expected).abs().max().item<float>();
        Assert.True(diff <= tolerance, $"max abs diff {diff:E2} over {tolerance:E2} ({Bf16RowsKernel.Path})");
    }

    /// <summary>Every row count of the register-blocked tiles (blocks of 8, 4 and 2 rows), with output counts
    /// that leave 1 and 2 outputs of a 3-output tile and depths with and without a tail under 16.</summary>
    public static TheoryData<int, int, int> EveryRowCount()
    {
        var data = new TheoryData<int, int, int>();
        for (int rows = 1; rows <= Bf16RowsKernel.MaxRows; rows++)
        {
            data.Add(rows, 896, 70 + rows % 3);    // 70, 71, 72 outputs: tiles with 1, 2 and 0 left over
            data.Add(rows, 33 + 2 * rows, 97);     // odd depths, tails of 1 to 15 columns (with and without a 16-column one)
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(EveryRowCount))]
    public void Each_row_count_matches_libtorch_with_output_and_depth_tails(int rows, int depth, int outputs) =>
        Matches_a_float32_linear_over_the_same_bf16_weights(rows, depth, outputs);

    /// <summary>Up to a group of rows and 16 more (so a batch crosses groups): every row's bits equal its bits
    /// computed alone, so an answer never depends on what else was in the batch. Depths: whole 32-column
    /// superchunks in slices (4864), a 16-column tail (4304), a 16-column and a scalar tail (1150).</summary>
    [Theory]
    [InlineData(4864)]
    [InlineData(4304)]
    [InlineData(1150)]
    public void A_row_gives_the_same_bits_alone_and_in_any_batch(int depth)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(13);
        const int outputs = 131;
        int most = Bf16RowsKernel.GroupRows(depth) + 16;
        int largest = Bf16RowsKernel.Takes(most) ? most : Bf16RowsKernel.MaxRows;
        var x = randn([largest, depth], generator: generator).data<float>().ToArray();
        var bits = Bits(randn([outputs, depth], generator: generator).to(ScalarType.BFloat16));
        var b = randn([outputs], generator: generator).data<float>().ToArray();
        var alone = new float[largest * outputs];
        for (int r = 0; r < largest; r++)
            Bf16RowsKernel.Forward(x.AsSpan(r * depth, depth), bits, b, alone.AsSpan(r * outputs, outputs), 1, depth, outputs, threads: 1);

        int group = Bf16RowsKernel.GroupRows(depth);
        foreach (int rows in Enumerable.Range(2, 15).Concat([group - 1, group, group + 1, largest]).Where(r => r <= largest).Distinct())
        {
            var batch = new float[rows * outputs];
            Bf16RowsKernel.Forward(x.AsSpan(0, rows * depth), bits, b, batch, rows, depth, outputs, threads: 2);
            Assert.Equal(alone.AsSpan(0, rows * outputs).ToArray(), batch);
        }
    }

    [Fact]
    public void Without_bias_and_on_one_thread_gives_the_same_result_as_with_threads()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(7);
        var x = randn([6, 300], generator: generator);
        var w = randn([513, 300], generator: generator).to(ScalarType.BFloat16);
        var bits = Bits(w);
        var one = new float[6 * 513];
        var many = new float[6 * 513];

        Bf16RowsKernel.Forward(x.data<float>().ToArray(), bits, [], one, 6, 300, 513, threads: 1);
        Bf16RowsKernel.Forward(x.data<float>().ToArray(), bits, [], many, 6, 300, 513, threads: 4);

        Assert.Equal(one, many);
        var expected = x.matmul(w.to(ScalarType.Float32).t());
        Assert.True((tensor(one, [6, 513]) - expected).abs().max().item<float>() < 1e-3);
    }

    [Theory]
    [InlineData("avx2")]
    [InlineData("scalar")]
    public void Narrower_instruction_paths_give_the_same_sums(string path)
    {
        if (path == "avx2" && !(System.Runtime.Intrinsics.X86.Avx2.IsSupported && System.Runtime.Intrinsics.X86.Fma.IsSupported))
            throw new InvalidOperationException("this CPU has no AVX2/FMA: the AVX2 path cannot be checked here");
        using var scope = NewDisposeScope();
        var generator = new Generator(11);
        var x = randn([5, 203], generator: generator);
        var w = randn([19, 203], generator: generator).to(ScalarType.BFloat16);
        var expected = x.matmul(w.to(ScalarType.Float32).t());
        var y = new float[5 * 19];
        lock (PathLock)
        {
            Bf16RowsKernel.Forced = path;
            try { Bf16RowsKernel.Forward(x.data<float>().ToArray(), Bits(w), [], y, 5, 203, 19); }
            finally { Bf16RowsKernel.Forced = null; }
        }
        Assert.True((tensor(y, [5, 19]) - expected).abs().max().item<float>() < 1e-4);
    }

    private static readonly object PathLock = new();

    [Fact]
    public void Bf16_conversion_rounds_to_nearest_even_as_torch_does()
    {
        using var scope = NewDisposeScope();
        var values = randn([4096], generator: new Generator(3)) * 1000;
        var torchBits = Bits(values.to(ScalarType.BFloat16));

        var ours = values.data<float>().ToArray().Select(Bf16RowsKernel.ToBf16).ToArray();

        Assert.Equal(torchBits, ours);
        Assert.All(ours, bits => Assert.Equal(bits, Bf16RowsKernel.ToBf16(Bf16RowsKernel.FromBf16(bits))));   // widening is exact
    }

    [Theory]
    [InlineData(0, null)]
    [InlineData(17, "avx2")]
    [InlineData(17, "scalar")]
    public void Row_counts_a_path_does_not_take_are_refused(int rows, string? path)
    {
        lock (PathLock)
        {
            Bf16RowsKernel.Forced = path;
            try
            {
                Assert.False(Bf16RowsKernel.Takes(rows));
                Assert.Throws<ArgumentOutOfRangeException>(() =>
                    Bf16RowsKernel.Forward(new float[64 * 4], new ushort[16], [], new float[64 * 4], rows, 4, 4));
            }
            finally { Bf16RowsKernel.Forced = null; }
        }
    }

    [Fact]
    public void Short_buffers_are_refused()
    {
        Assert.Throws<ArgumentException>(() => Bf16RowsKernel.Forward(new float[3], new ushort[16], [], new float[4], 1, 4, 4));
        Assert.Throws<ArgumentException>(() => Bf16RowsKernel.Forward(new float[4], new ushort[15], [], new float[4], 1, 4, 4));
    }

    /// <summary>A bf16 tensor's bits: its exact float32 widening, upper 16 bits.</summary>
    private static ushort[] Bits(Tensor bf16) =>
        bf16.to(ScalarType.Float32).data<float>().Select(v => (ushort)(BitConverter.SingleToUInt32Bits(v) >> 16)).ToArray();
}
