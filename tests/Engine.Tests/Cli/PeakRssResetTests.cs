using System.Runtime.InteropServices;
using VQToken.Cli.Bench;

namespace VQToken.Engine.Tests.Cli;

[Collection(WholeProcessCollection.Name)]
public sealed class PeakRssResetTests
{
    [Fact]
    public void After_a_reset_the_peak_rss_no_longer_counts_memory_freed_before_it()
    {
        const int size = 384 << 20, chunk = 1 << 20;
        var block = Marshal.AllocHGlobal(size);
        try
        {
            var ones = Enumerable.Repeat((byte)1, chunk).ToArray();
            for (int offset = 0; offset < size; offset += chunk) Marshal.Copy(ones, 0, block + offset, chunk);   // touched, so resident
        }
        finally
        {
            Marshal.FreeHGlobal(block);   // above glibc's mmap threshold: unmapped at once
        }
        long before = HardwareProbe.PeakRssBytes();

        Assert.True(HardwareProbe.ResetPeakRss());
        long after = HardwareProbe.PeakRssBytes();

        Assert.True(after < before - (256L << 20), $"peak {before / 1e6:F0} MB before the reset, {after / 1e6:F0} MB after");
        Assert.True(after >= HardwareProbe.ResidentBytes() / 2, "the peak after a reset starts from what is resident now");
    }
}
