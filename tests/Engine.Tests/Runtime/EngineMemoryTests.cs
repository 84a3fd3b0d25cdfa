using VQToken.Engine.Generation;
using VQToken.Engine.Runtime;

namespace VQToken.Engine.Tests.Runtime;

[Collection(nameof(Generation.MemoryMeasurement))]
public class EngineMemoryTests(TinyCheckpointFixture tiny) : IClassFixture<TinyCheckpointFixture>
{
    private static long ResidentBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        throw new InvalidOperationException("VmRSS not found in /proc/self/status");
    }

    [Fact]
    public async Task Thousand_asks_keep_resident_memory_flat()
    {
        await using var engine = tiny.NewEngine(o => o.PrefixCacheBytes = 8L << 20);
        var encoding = await engine.EncodeAsync(TinyCheckpointFixture.Encode("mem", TinyCheckpointFixture.RandomFrames(2, seed: 11)));
        var sampling = new SamplingOptions { MaxNewTokens = 4, Temperature = 0.8, TopP = 0.9, Seed = 1 };
        async Task Batch(int start, int count)
        {
            // 8 at a time: prefix hits and misses (a new question every time), batched decoding.
            for (int i = start; i < start + count; i += 8)
                await Task.WhenAll(Enumerable.Range(i, 8).Select(n => engine.AskAsync(
                    new AskRequest("mem", encoding, tiny.Template.BuildPrompt($"question {n % 50}?"), sampling, UsePrefixCache: n % 3 != 0))));
        }
        await Batch(0, 400);                       // warm-up: allocator pools, JIT, prefix cache filled
        long before = ResidentBytes();
        // 1000 asks in 5 rounds; a full collection between rounds keeps the managed heap's own
        // growth out of the reading, so what is measured is native (TorchSharp) memory.
        var readings = new List<long>();
        for (int round = 0; round < 5; round++)
        {
            await Batch(400 + round * 200, 200);
            readings.Add(ResidentBytes());
        }
        long peak = readings.Max();
        Assert.True(peak < before * 1.10, $"RSS grew from {before >> 20} MiB to {peak >> 20} MiB over 1000 asks ({string.Join(", ", readings.Select(r => r >> 20))} MiB)");
    }
}
