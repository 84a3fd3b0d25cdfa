using VQToken.Engine.Runtime;

namespace VQToken.Engine.Tests.Runtime;

public sealed class HeapTrimTests
{
    [Theory]
    [InlineData(null, null, true)]
    [InlineData("", " ", true)]
    [InlineData("8", null, false)]
    [InlineData(null, "glibc.malloc.arena_max=4", false)]
    [InlineData(null, "glibc.cpu.x86_shstk=off", true)]
    public void Arenas_are_capped_only_when_the_operator_did_not_configure_the_allocator(string? arenaMax, string? tunables, bool expected) =>
        Assert.Equal(expected, HeapTrim.ShouldLimitArenas(arenaMax, tunables));

    [Theory]
    [InlineData(null, null, null, null, true)]
    [InlineData("1048576", null, null, null, false)]
    [InlineData(null, "0", null, null, false)]
    [InlineData(null, null, "4096", null, false)]
    [InlineData(null, null, null, "glibc.malloc.mmap_threshold=131072", false)]
    [InlineData(null, null, null, "glibc.malloc.top_pad=0:glibc.cpu.x86_shstk=off", false)]
    [InlineData(null, null, null, "glibc.malloc.arena_max=4", true)]
    public void Thresholds_are_set_only_when_the_operator_set_none_of_them(string? mmap, string? trim, string? topPad, string? tunables, bool expected)
    {
        var environment = new Dictionary<string, string?> { ["MALLOC_MMAP_THRESHOLD_"] = mmap, ["MALLOC_TRIM_THRESHOLD_"] = trim, ["MALLOC_TOP_PAD_"] = topPad };
        Assert.Equal(expected, HeapTrim.ShouldKeepActivationPages(name => environment.GetValueOrDefault(name), tunables));
    }
}
