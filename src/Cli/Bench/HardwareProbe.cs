using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace VQToken.Cli.Bench;

/// <summary>What the machine can do at best, measured in the same run as the model: a plain fp32
/// matmul's FLOP/s and the memcpy bandwidth (the roofs the vision and decode timings are held against).</summary>
public static class HardwareProbe
{
    /// <summary>FLOP/s of an [n, n] × [n, n] float32 matmul (best of <paramref name="repeats"/>, after a warm-up).</summary>
    public static double MatmulFlops(int n, int repeats)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var a = randn(n, n);
        var b = randn(n, n);
        a.matmul(b).Dispose();
        double best = double.MaxValue;
        for (int i = 0; i < repeats; i++)
        {
            var clock = Stopwatch.StartNew();
            a.matmul(b).Dispose();
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return 2.0 * n * n * n / best;
    }

    /// <summary>Bytes per second a tensor copy moves, counting what it reads and what it writes
    /// (2 × size / time: a decode step only reads its weights, so this roof is the strict one).</summary>
    public static double MemcpyBandwidth(long bytes, int repeats)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        long n = bytes / 4;
        var source = ones(n);
        var target = empty(n);
        target.copy_(source);
        double best = double.MaxValue;
        for (int i = 0; i < repeats; i++)
        {
            var clock = Stopwatch.StartNew();
            target.copy_(source);
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return 2.0 * n * 4 / best;
    }

    /// <summary>The CPU's model name from /proc/cpuinfo ("unknown" elsewhere).</summary>
    public static string CpuModel() => CpuInfoField("model name") ?? "unknown";

    /// <summary>Whether the CPU has native bf16 instructions (avx512_bf16 or amx_bf16).</summary>
    public static bool HasNativeBf16()
    {
        var flags = CpuInfoField("flags") ?? "";
        return flags.Split(' ').Any(f => f is "avx512_bf16" or "amx_bf16");
    }

    private static string? CpuInfoField(string name)
    {
        if (!File.Exists("/proc/cpuinfo")) return null;
        var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal));
        return line?[(line.IndexOf(':') + 1)..].Trim();
    }

    /// <summary>Peak resident set of this process (VmHWM), bytes.</summary>
    public static long PeakRssBytes() => BenchIngestCommand.ReadStatusKb(Environment.ProcessId, "VmHWM:") * 1024;
    /// <summary>Resets this process's peak resident set to the current one (Linux: "5" into /proc/self/clear_refs),
    /// so a later <see cref="PeakRssBytes"/> is the peak since now; false where that is not possible.</summary>
    public static bool ResetPeakRss()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Resident set of this process now (VmRSS), bytes.</summary>
    public static long ResidentBytes() => BenchIngestCommand.ReadStatusKb(Environment.ProcessId, "VmRSS:") * 1024;
}
