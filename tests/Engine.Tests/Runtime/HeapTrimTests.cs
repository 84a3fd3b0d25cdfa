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
}
