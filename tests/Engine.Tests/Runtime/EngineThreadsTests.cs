using VQToken.Engine.Runtime;

namespace VQToken.Engine.Tests.Runtime;

/// <summary>How many intra-op threads the engine asks libtorch for.</summary>
public class EngineThreadsTests
{
    [Theory]
    [InlineData(0, 2, 2, 1)]     // 2-core host: one core stays with the request threads
    [InlineData(0, 8, 16, 8)]    // libtorch's default (physical cores) is already below the logical processors
    [InlineData(0, 32, 4, 3)]    // a container limited to 4 CPUs on a 32-core host
    [InlineData(0, 1, 1, 1)]     // never fewer than one
    [InlineData(6, 2, 2, 6)]     // a configured count is used as is
    public void Default_threads_leave_a_core_for_request_handling(int configured, int libtorchDefault, int processors, int expected)
    {
        Assert.Equal(expected, EngineOptions.IntraOpThreads(configured, libtorchDefault, processors));
    }
}
