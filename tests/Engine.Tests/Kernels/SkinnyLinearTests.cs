using VQToken.Engine.Kernels;
using TorchSharp;
using VQToken.Engine.Models;
using VQToken.Engine.Tests.Runtime;
using static TorchSharp.torch;

namespace VQToken.Engine.Tests.Kernels;

/// <summary>The few-row GEMM of batched decode steps against libtorch's linear, and the batched decode
/// step (kernel + one attention call over ragged caches) against one-sequence steps.</summary>
[Collection(VQToken.Engine.Tests.Cli.WholeProcessCollection.Name)]   // it switches libtorch's thread count
public sealed class SkinnyLinearTests(TinyCheckpointFixture tiny) : IClassFixture<TinyCheckpointFixture>
{
    [Fact]
    public void Helper_threads_run_every_part_once_even_with_more_parts_than_cores()
    {
        int parts = 2 * Environment.ProcessorCount + 1;
        var runs = new int[parts];
        SkinnyLinear.RunParts(parts, part => Interlocked.Increment(ref runs[part]));
        Assert.All(runs, count => Assert.Equal(1, count));
    }

    /// <summary>A column-major weight [out, in] (the transpose of a contiguous [in, out]), as the model keeps it.</summary>
    private static Tensor ColumnMajorWeight(long outputs, long inputs, Generator generator) =>
        (randn([inputs, outputs], generator: generator) * 0.1).t();

    [Theory]
    [InlineData(2, 40, 16, false, 1)]
    [InlineData(3, 64, 48, true, 2)]     // a 16-column tail after one 32-column block
    [InlineData(8, 896, 896, true, 2)]   // depth split: the partial sums of each thread are added
    [InlineData(8, 96, 4864, false, 2)]  // column split
    [InlineData(8, 96, 4864, false, 1)]
    [InlineData(9, 128, 80, true, 2)]    // 9–16 rows: the 16-row kernel
    [InlineData(16, 200, 1024, false, 2)]
    [InlineData(5, 33, 32, true, 3)]     // odd depth; more threads than parts may get
    [InlineData(4, 1, 32, false, 2)]     // depth 1: fewer depth slices than threads
    public void Matches_libtorch_linear(int rows, int inputs, int outputs, bool withBias, int threads)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)(rows * 1000 + outputs));
        var x = randn([rows, 1, inputs], generator: generator);
        var weight = ColumnMajorWeight(outputs, inputs, generator);
        var bias = withBias ? randn([outputs], generator: generator) : null;
        var expected = nn.functional.linear(x, weight, bias);

        Tensor actual;
        bool applied;
        using (SkinnyLinear.Begin(threads))
        {
            applied = SkinnyLinear.Applies(x, weight, bias);
            actual = bias is null ? SkinnyLinear.Forward(x, weight) : ColumnMajorLinear.Apply(x, weight, bias);
        }

        Assert.Equal(SkinnyLinear.Supported, applied);   // on a CPU without AVX-512 libtorch answers instead
        Assert.Equal(expected.shape, actual.shape);
        double scale = expected.abs().max().item<float>();
        double difference = (expected - actual).abs().max().item<float>();
        Assert.True(difference <= 1e-5 * Math.Max(1, scale), $"max difference {difference} (values up to {scale})");
    }

    [Fact]
    public void Two_threads_using_the_kernel_at_once_each_get_their_own_result()
    {
        // Two engines in one process (as in these tests) share the helper threads.
        void Work(int seed)
        {
            using var scope = NewDisposeScope();
            using var generator = new Generator((ulong)seed);
            var weight = ColumnMajorWeight(256, 512, generator);
            using var region = SkinnyLinear.Begin(2);
            for (int i = 0; i < 150; i++)
            {
                using var step = NewDisposeScope();
                var x = randn([8, 512], generator: generator);
                double difference = (SkinnyLinear.Forward(x, weight) - x.matmul(weight.t())).abs().max().item<float>();
                Assert.True(difference < 1e-4, $"thread {seed}, call {i}: max difference {difference}");
            }
        }
        var errors = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        var threads = new[] { 1, 2 }.Select(seed => new Thread(() =>
        {
            try { Work(seed); }
            catch (Exception e) { errors.Enqueue(e); }
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        Assert.Empty(errors);
    }

    [Fact]
    public void Takes_only_the_calls_it_can_do()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(3);
        var weight = ColumnMajorWeight(64, 32, generator);
        var rows8 = randn([8, 32], generator: generator);

        Assert.False(SkinnyLinear.Applies(rows8, weight, null));                                        // outside a region
        using (SkinnyLinear.Begin(2))
        {
            Assert.Equal(SkinnyLinear.Supported, SkinnyLinear.Applies(rows8, weight, null));
            Assert.False(SkinnyLinear.Applies(randn([1, 32], generator: generator), weight, null));      // one row: libtorch's GEMV
            Assert.False(SkinnyLinear.Applies(randn([17, 32], generator: generator), weight, null));     // many rows: libtorch's GEMM
            Assert.False(SkinnyLinear.Applies(rows8, weight.contiguous(), null));                        // row-major weight
            Assert.False(SkinnyLinear.Applies(rows8.to_type(ScalarType.Float64), weight.to_type(ScalarType.Float64), null));
            Assert.False(SkinnyLinear.Applies(rows8, ColumnMajorWeight(40, 32, generator), null));       // width not a multiple of 16
            Assert.False(SkinnyLinear.Applies(rows8.t().contiguous().t(), weight, null));                // strided input
        }
    }

    [Fact]
    public void A_region_runs_libtorch_on_one_thread_here_only_and_restores_its_thread_count()
    {
        static int OnFreshThread()
        {
            int count = 0;
            var thread = new Thread(() => count = TorchSharp.torch.get_num_threads());
            thread.Start();
            thread.Join();
            return count;
        }
        int before = TorchSharp.torch.get_num_threads(), freshBefore = OnFreshThread();
        using (SkinnyLinear.Begin(2))
        {
            Assert.Equal(SkinnyLinear.Supported ? 1 : before, TorchSharp.torch.get_num_threads());
            Assert.Equal(freshBefore, OnFreshThread());                                                  // other threads keep theirs
            using (SkinnyLinear.Begin(2)) { }                                                            // nested: no effect
            Assert.Equal(SkinnyLinear.Supported ? 1 : before, TorchSharp.torch.get_num_threads());
        }
        Assert.Equal(before, TorchSharp.torch.get_num_threads());
        Assert.Equal(freshBefore, OnFreshThread());
        using (SkinnyLinear.For(1, zeros(1))) Assert.Equal(before, TorchSharp.torch.get_num_threads());  // one row: not worth it
    }

    [Theory]
    [InlineData(new[] { 5, 13, 9, 30 })]   // one attention call per layer over the padded caches
    [InlineData(new[] { 5, 300, 9, 12 })]  // padding would more than double the positions read: per row
    public void A_batched_decode_step_over_ragged_caches_equals_one_sequence_steps(int[] prefixLengths)
    {
        using var model = LlavaOneVision.Load(tiny.Directory, CPU, ScalarType.Float32, WeightResidency.Float32);   // float32 weights: this kernel's case
        var language = model.Language;
        using var scope = NewDisposeScope();
        using var generator = new Generator(11);
        var batched = new List<VQToken.Engine.Generation.KvCache>();
        var single = new List<VQToken.Engine.Generation.KvCache>();
        foreach (int length in prefixLengths)
        {
            var cache = language.NewCache(8);   // small: the step must grow the shorter caches to the window
            language.Forward(randn([1, length, model.Config.Text.HiddenSize], generator: generator), cache, lastOnly: true);
            batched.Add(cache);
            single.Add(cache.Clone());
        }
        try
        {
            long[] tokens = [3, 700, 41, 12];
            long calls = SkinnyLinear.CallsOnThisThread;
            for (int step = 0; step < 3; step++)
            {
                Tensor together;
                using (SkinnyLinear.For(tokens.Length, DeviceType.CPU, ScalarType.Float32))             // as the model runner opens it
                    together = language.DecodeBatch(tokens, batched);                                 // [4, V]
                Assert.Equal(SkinnyLinear.Supported, SkinnyLinear.CallsOnThisThread > calls);              // the kernel ran (where it can)
                for (int i = 0; i < tokens.Length; i++)
                {
                    var alone = language.DecodeBatch([tokens[i]], [single[i]]);                           // [1, V]
                    double difference = (together[i] - alone[0]).abs().max().item<float>();
                    Assert.True(difference < 1e-4, $"step {step}, sequence {i}: max difference {difference}");
                    Assert.Equal(single[i].Length, batched[i].Length);
                    tokens[i] = alone[0].argmax().item<long>();
                }
            }
            Assert.Equal(prefixLengths.Select(l => (long)l + 3), batched.Select(c => c.Length));
            // The shortest cache kept its own size (8 positions): the padding lives in the step's copies.
            Assert.True(batched[0].Bytes * 2 < batched.Max(c => c.Bytes), $"{batched[0].Bytes} vs {batched.Max(c => c.Bytes)} bytes");

            // Outside a region (Engine:DecodeKernel=false): libtorch's GEMM, the same logits.
            var withKernel = batched.Select(c => c.Clone()).ToList();
            try
            {
                Tensor on;
                using (SkinnyLinear.For(tokens.Length, DeviceType.CPU, ScalarType.Float32))
                    on = language.DecodeBatch(tokens, withKernel);
                calls = SkinnyLinear.CallsOnThisThread;
                var off = language.DecodeBatch(tokens, batched);
                Assert.Equal(calls, SkinnyLinear.CallsOnThisThread);
                Assert.True((on - off).abs().max().item<float>() < 1e-4);
            }
            finally
            {
                foreach (var cache in withKernel) cache.Dispose();
            }
        }
        finally
        {
            foreach (var cache in batched.Concat(single)) cache.Dispose();
        }
    }
}
