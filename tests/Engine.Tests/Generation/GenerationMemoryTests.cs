using System.Diagnostics;
using System.Runtime.InteropServices;
using TorchSharp;
using VQToken.Engine.Generation;
using VQToken.Engine.Models;
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
    // A cache of 4096 positions (2 MiB for parity-a): a cache, or its buffers, kept alive by every
    // generation would add ~400 MiB over the run, far beyond 10 % of the process.
    private const long CacheCapacity = 4096;
    private const int NewTokens = 8;
    private const int WarmUp = 100;

    [Fact]
    public void Two_hundred_generations_grow_native_memory_by_less_than_10_percent()
    {
        using var model = LlavaOneVision.Load(TestPaths.FixtureModel("parity-a"));
        using var prompt = TextPrompt(model);
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
        using var prompt = TextPrompt(model);
        var options = new SamplingOptions { MaxNewTokens = NewTokens, Temperature = 0.8, TopK = 20, TopP = 0.9, Seed = 3 };
        GenerateOnce(model, prompt, options);

        long live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 5; i++) GenerateOnce(model, prompt, options);

        // Every tensor made on this thread was disposed: none waits for the GC's finalizer.
        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    private static Tensor TextPrompt(LlavaOneVision model)
    {
        var ids = FixtureRun.PromptIds("parity-a").Where(id => id != LlavaOneVision.ImageTokenIndex).ToArray();
        return model.PromptEmbeddings(ids, empty(0, model.Config.Text.HiddenSize));   // [1, L, D]
    }

    private static void GenerateOnce(LlavaOneVision model, Tensor prompt, SamplingOptions options)
    {
        using var cache = model.Language.NewCache(CacheCapacity);
        var tokens = TextGenerator.Generate(model.Language, prompt, cache, options).Count();
        Assert.Equal(options.MaxNewTokens, tokens);
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
