using System.CommandLine;
using System.Globalization;
using TorchSharp;
using VQToken.Cli.Bench;
using VQToken.Engine.Kernels;
using VQToken.Engine.Models;
using static TorchSharp.torch;

namespace VQToken.Cli;

/// <summary>`bench-linear`: times the model's linear shapes with bf16-held weights computed three ways —
/// widened to float32 then libtorch's float32 GEMM (the path without AVX-512), libtorch's
/// bf16 GEMM, and the float32-resident weight — and through the bf16 kernel (the engine's path); prints Markdown.</summary>
public sealed class BenchLinearCommand : CliCommand
{
    private readonly Option<int> _threads = CliOptions.Int("--threads", "libtorch (and kernel) threads", 2, min: 1);
    private readonly Option<int> _repeat = CliOptions.Int("--repeat", "runs per cell (median and fastest are shown)", 5, min: 1);
    private readonly Option<bool> _decodeOnly = CliOptions.Flag("--decode-only", "time only the decode steps of --model");
    private readonly Option<string> _model = CliOptions.Text("--model", "also time decode steps (1 and 8 sequences) of this checkpoint in both weight residencies", "DIR");

    // [rows, out, in]: a prefill chunk through the decoder's MLP and attention output; one frame (729
    // patches) through SigLIP's MLP and attention projection; decode steps of 1 and 8 rows.
    private static readonly (int Rows, int Out, int In, string What)[] Shapes =
    [
        (512, 4864, 896, "prefill chunk, Qwen2 gate/up"),
        (512, 896, 4864, "prefill chunk, Qwen2 down"),
        (512, 896, 896, "prefill chunk, Qwen2 q/o"),
        (95, 4864, 896, "short VQ prompt, Qwen2 gate/up"),
        (729, 4304, 1152, "one frame, SigLIP fc1"),
        (729, 1152, 1152, "one frame, SigLIP q/k/v/o"),
        (729, 1152, 4304, "one frame, SigLIP fc2"),
        (63, 896, 4864, "VQ prompt, Qwen2 down"),
        (1, 4864, 896, "decode, 1 row"),
        (8, 4864, 896, "decode, 8 rows"),
    ];

    public BenchLinearCommand() : base("bench-linear",
        "Time bf16-held linear weights: widened to float32 + float32 GEMM vs libtorch's bf16 GEMM vs float32-held (and the bf16 kernel, the engine's path on AVX-512); prints a Markdown table.")
    {
        Add(_threads);
        Add(_repeat);
        Add(_model);
        Add(_decodeOnly);
    }

    protected override int Execute(ParseResult parsed)
    {
        int threads = parsed.GetValue(_threads), repeat = parsed.GetValue(_repeat);
        torch.set_num_threads(threads);
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() : null;
        bool avx512Bf16 = File.Exists("/proc/cpuinfo") && File.ReadLines("/proc/cpuinfo").Any(l => l.StartsWith("flags", StringComparison.Ordinal) && l.Contains(" avx512_bf16"));
        Console.WriteLine($"## {cpu ?? "CPU"}, {threads} threads, avx512_bf16: {(avx512Bf16 ? "yes" : "no")}, bf16 kernel path: {Bf16RowsKernel.Path}");
        Console.WriteLine();
        Console.WriteLine("| shape [rows x out x in] | float32-held ms | bf16 widened + float32 GEMM ms | bf16 widened column-major + float32 GEMM ms | libtorch bf16 GEMM ms | bf16 kernel ms |");
        Console.WriteLine("|---|---|---|---|---|---|");
        using var noGrad = no_grad();
        foreach (var (rows, outputs, inputs, what) in parsed.GetValue(_decodeOnly) ? [] : Shapes)
        {
            using var scope = NewDisposeScope();
            using var generator = new Generator(1);
            var x = randn([rows, inputs], generator: generator);
            var w16 = (randn([outputs, inputs], generator: generator) * 0.05).to_type(ScalarType.BFloat16);
            var w32 = w16.to_type(ScalarType.Float32).t().contiguous().t();    // float32-held, column-major as the engine keeps it
            var wide = empty([outputs, inputs], ScalarType.Float32);
            var x16 = x.to_type(ScalarType.BFloat16);
            string f32 = Time(repeat, () => nn.functional.linear(x, w32).Dispose());
            string widened = Time(repeat, () => nn.functional.linear(x, wide.copy_(w16)).Dispose());
            var wideT = empty([inputs, outputs], ScalarType.Float32);
            string widenedColumns = Time(repeat, () => nn.functional.linear(x, wideT.copy_(w16.t()).t()).Dispose());
            string bf16 = Time(repeat, () =>
            {
                using var y = nn.functional.linear(x16, w16);
                y.to_type(ScalarType.Float32).Dispose();
            });
            string kernel = "—";
            if (Bf16RowsKernel.Takes(rows))
            {
                var xs = x.data<float>().ToArray();
                var bits = w16.to_type(ScalarType.Float32).data<float>().Select(v => (ushort)(BitConverter.SingleToUInt32Bits(v) >> 16)).ToArray();
                var y = new float[rows * outputs];
                kernel = Time(repeat, () => Bf16RowsKernel.Forward(xs, bits, [], y, rows, inputs, outputs, threads));
            }
            Console.WriteLine($"| {rows} x {outputs} x {inputs} ({what}) | {f32} | {widened} | {widenedColumns} | {bf16} | {kernel} |");
        }
        if (!parsed.GetValue(_decodeOnly)) Attention(repeat);
        if (parsed.GetValue(_model) is { } model) DecodeSteps(model, repeat);
        return 0;
    }

    /// <summary>SigLIP's attention for 1 and 4 frames (16 heads × 729 patches × 72): libtorch's fused
    /// scaled_dot_product_attention against scores, softmax and a second batched matmul, and the engine's kernel.</summary>
    private static void Attention(int repeat)
    {
        Console.WriteLine();
        Console.WriteLine("| attention [frames x heads x patches x head dim] | scaled_dot_product_attention ms | matmul, softmax, matmul ms | attention kernel ms |");
        Console.WriteLine("|---|---|---|---|");
        foreach (int frames in new[] { 1, 4 })
        {
            using var scope = NewDisposeScope();
            using var generator = new Generator(2);
            var q = randn([frames, 16, 729, 72], generator: generator);
            var k = randn([frames, 16, 729, 72], generator: generator);
            var v = randn([frames, 16, 729, 72], generator: generator);
            string fused = Time(repeat, () => nn.functional.scaled_dot_product_attention(q, k, v).Dispose());
            string plain = Time(repeat, () =>
            {
                using var inner = NewDisposeScope();
                q.matmul(k.transpose(-1, -2)).mul_(1.0 / Math.Sqrt(72)).softmax(-1).matmul(v);
            });
            Tensor Merged(Tensor y) => y.transpose(1, 2).reshape(frames, 729, 16 * 72).contiguous();
            Tensor qm = Merged(q), km = Merged(k), vm = Merged(v);
            string kernel = AttentionKernel.Takes(qm, km, vm, 16) ? Time(repeat, () => AttentionKernel.Forward(qm, km, vm, 16).Dispose()) : "—";
            Console.WriteLine($"| {frames} x 16 x 729 x 72 | {fused} | {plain} | {kernel} |");
        }
    }

    /// <summary>Median decode step of 1 and 8 sequences (100 cached positions each), as the model runner
    /// runs it, with the weights held in bf16 and widened to float32.</summary>
    private static void DecodeSteps(string dir, int repeat)
    {
        Console.WriteLine();
        Console.WriteLine($"| decode step, {Path.GetFileName(Path.TrimEndingDirectorySeparator(dir))} | weights held MB | 1 sequence ms | 8 sequences ms |");
        Console.WriteLine("|---|---|---|---|");
        foreach (var residency in new[] { WeightResidency.Auto, WeightResidency.Float32 })
        {
            using var model = LlavaOneVision.Load(dir, CPU, ScalarType.Float32, residency);
            var cells = new List<string>();
            foreach (int rows in new[] { 1, 8 })
            {
                using var scope = NewDisposeScope();
                var caches = Enumerable.Range(0, rows).Select(_ => model.Language.NewCache()).ToList();
                var embeds = randn([1, 100, model.Config.Text.HiddenSize], generator: new Generator(1)) * 0.02;
                foreach (var cache in caches) model.Language.Forward(embeds, cache, lastOnly: true);
                var tokens = Enumerable.Range(0, rows).Select(i => (long)(100 + i)).ToList();
                cells.Add(Time(repeat, () =>
                {
                    using var region = model.DecodeRegion(rows);
                    model.Language.DecodeBatch(tokens, caches).Dispose();
                }));
                foreach (var cache in caches) cache.Dispose();
            }
            Console.WriteLine($"| {(model.Bf16Resident ? "bf16-held" : "float32-held")} | {model.WeightBytes >> 20} | {cells[0]} | {cells[1]} |");
        }
    }

    /// <summary>Median (and fastest) wall time of <paramref name="repeat"/> runs after one warm-up: on a shared
    /// machine the fastest run shows what the code costs, the median what a run meets.</summary>
    private static string Time(int repeat, Action run)
    {
        run();
        var times = Percentiles.Sample(repeat, run);
        times.Sort();
        string Format(double ms) => ms.ToString(ms < 10 ? "F2" : "F1", CultureInfo.InvariantCulture);
        return $"{Format(times[times.Count / 2])} ({Format(times[0])})";
    }
}
