using System.Diagnostics;
using System.Runtime.InteropServices;
using TorchSharp;
using VQToken.Engine.Generation;
using VQToken.Engine.Models;
using VQToken.Engine.Runtime;
using VQToken.Engine.Tests.Support;
using static TorchSharp.torch;

namespace VQToken.Engine.Tests.Generation;

/// <summary>Memory is measured alone: other test classes allocating in parallel would disturb the RSS.</summary>
[CollectionDefinition(nameof(MemoryMeasurement), DisableParallelization = true)]
public sealed class MemoryMeasurement;

/// <summary>Issue 3's acceptance: many generations in one process do not grow native memory.</summary>
[Collection(nameof(MemoryMeasurement))]
public class GenerationMemoryTests
{
    // 4096 visual tokens make each answer's cache ~2 MiB for parity-a: a cache, or its buffers, kept alive
    // by every generation would add ~400 MiB over the run, far beyond 10 % of the process.
    private const int VisualTokens = 4096;
    private const int NewTokens = 8;
    private const int WarmUp = 100;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]   // weights held in bf16: the bf16 kernel's scratch and the widening buffer are reused
    public void Two_hundred_generations_grow_native_memory_by_less_than_10_percent(bool bf16Resident)
    {
        using var temp = new TempDir();
        var dir = bf16Resident ? FixtureModels.CopyWith(temp, "parity-a", tensors =>
        {
            foreach (var name in tensors.Names.ToList())
                if (tensors[name].is_floating_point()) tensors.Set(name, tensors[name].to_type(ScalarType.BFloat16));
        }) : TestPaths.FixtureModel("parity-a");
        using var model = LlavaOneVision.Load(dir);
        Assert.Equal(bf16Resident, model.Bf16Resident);
        var prompt = Prompt(model);
        var options = SamplingOptions.Greedy(NewTokens);

        // Warm-up until the runtime settles: the GC grows its gen0 budget (~25 MiB committed) and glibc
        // its heaps over the first few dozen generations, once.
        for (int i = 0; i < WarmUp; i++) GenerateOnce(model, prompt, options);
        long before = NativeBytes();
        for (int i = 0; i < 200; i++) GenerateOnce(model, prompt, options);
        long after = NativeBytes();

        double growth = (after - before) / (double)before;
        Assert.True(growth < 0.10, $"native memory grew {growth:P1}: {before >> 20} MiB → {after >> 20} MiB over 200 generations");
    }

    [Fact]
    public void Generations_leave_no_live_tensors_behind()
    {
        using var model = LlavaOneVision.Load(TestPaths.FixtureModel("parity-a"));
        var prompt = Prompt(model);
        var options = new SamplingOptions { MaxNewTokens = NewTokens, Temperature = 0.8, TopK = 20, TopP = 0.9, Seed = 3 };
        GenerateOnce(model, prompt, options);

        long live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 5; i++) GenerateOnce(model, prompt, options);

        // Every tensor made on this thread was disposed: none waits for the GC's finalizer.
        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    /// <summary>parity-a's prompt over a full-mode video of <see cref="VisualTokens"/> random tokens.</summary>
    private static (int[] Ids, VideoEncoding Video) Prompt(LlavaOneVision model)
    {
        int dim = model.Config.Text.HiddenSize;
        var random = new Random(5);
        var values = Enumerable.Range(0, VisualTokens * dim).Select(_ => (float)(random.NextDouble() - 0.5) * 0.1f).ToArray();
        var ids = FixtureRun.PromptIds("parity-a").Select(i => (int)i).ToArray();
        return (ids, new VideoEncoding { Mode = VQToken.Engine.Compression.CompressionMode.Full, FullTokens = values, VisualTokens = VisualTokens, Dim = dim });
    }

    /// <summary>One answer through the engine's scheduler and model runner, on this thread.</summary>
    private static void GenerateOnce(LlavaOneVision model, (int[] Ids, VideoEncoding Video) prompt, SamplingOptions options)
    {
        var result = TextGenerator.Generate(model, new AskRequest("memory", prompt.Video, prompt.Ids, options, UsePrefixCache: false));
        Assert.Equal(options.MaxNewTokens, result.Tokens.Count);
    }

    /// <summary>Resident memory outside the managed heap: VmRSS minus the GC's committed bytes, after a
    /// full collection and (glibc) malloc_trim, which returns the pages glibc keeps free after many
    /// 512 KiB buffers (fragmentation, not live data; without it the reading varies by tens of MiB).</summary>
    private static long NativeBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        TrimNativeHeap();
        long resident;
        const string status = "/proc/self/status";
        if (File.Exists(status))
        {
            var line = File.ReadLines(status).First(l => l.StartsWith("VmRSS:"));
            resident = long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0]) * 1024;
        }
        else
        {
            using var self = Process.GetCurrentProcess();
            resident = self.WorkingSet64;
        }
        return resident - GC.GetGCMemoryInfo().TotalCommittedBytes;
    }

    private static void TrimNativeHeap()
    {
        if (!OperatingSystem.IsLinux()) return;
        try
        {
            malloc_trim(0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc (e.g. musl): nothing to trim.
        }
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int malloc_trim(nuint pad);
}
