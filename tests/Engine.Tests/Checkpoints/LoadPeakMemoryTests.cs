using System.Text.Json.Nodes;
using VQToken.Engine.Models;
using VQToken.Engine.Tests.Support;
using static TorchSharp.torch;

namespace VQToken.Engine.Tests.Checkpoints;

/// <summary>Loading a bf16 checkpoint into bf16 residency reads each tensor straight into its parameter:
/// the load's peak resident memory stays near the bf16 size, never a float32 copy of the weights.</summary>
[Collection(nameof(Generation.MemoryMeasurement))]
public sealed class LoadPeakMemoryTests
{
    private const int Vocabulary = 400_000;   // parity-a's table widened: ~51 MB in bf16, dominating the model

    [Fact]
    public void Loading_a_bf16_checkpoint_peaks_below_the_float32_size_of_its_weights()
    {
        using var temp = new TempDir();
        var dir = FixtureModels.CopyWith(temp, "parity-a", tensors =>
        {
            foreach (var name in tensors.Names.ToList())
                if (tensors[name].is_floating_point()) tensors.Set(name, tensors[name].to_type(ScalarType.BFloat16));
            int dim = (int)tensors["model.embed_tokens.weight"].shape[1];
            tensors.Set("model.embed_tokens.weight", (randn([Vocabulary, dim], generator: new Generator(2)) * 0.02).to_type(ScalarType.BFloat16));
        });
        var configPath = Path.Combine(dir, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!;
        config["vocab_size"] = Vocabulary;
        File.WriteAllText(configPath, config.ToJsonString());

        long float32Bytes = 0, heldBytes = 0;
        long bf16Peak = PeakGrowth(() =>
        {
            using var model = LlavaOneVision.Load(dir);
            Assert.True(model.Bf16Resident);
            heldBytes = model.WeightBytes;
        });
        long float32Peak = PeakGrowth(() =>
        {
            using var model = LlavaOneVision.Load(dir, residency: WeightResidency.Float32);
            float32Bytes = model.WeightBytes;
        });

        Assert.True(heldBytes < 0.55 * float32Bytes, $"held {heldBytes >> 20} MiB of {float32Bytes >> 20} MiB");
        // The measurement sees a float32 load (the weights plus their transient copies) ...
        Assert.True(float32Peak >= float32Bytes, $"float32 load peaked {float32Peak >> 20} MiB over {float32Bytes >> 20} MiB of weights");
        // ... and the bf16 load stays near the bf16 size.
        Assert.True(bf16Peak < 0.7 * float32Bytes, $"bf16 load peaked {bf16Peak >> 20} MiB; float32 weights are {float32Bytes >> 20} MiB");
    }

    /// <summary>How far the resident set's peak rose above its level before <paramref name="load"/> (Linux:
    /// /proc/self/clear_refs resets VmHWM to the current VmRSS).</summary>
    private static long PeakGrowth(Action load)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long before = StatusBytes("VmRSS:");
        File.WriteAllText("/proc/self/clear_refs", "5");
        load();
        return StatusBytes("VmHWM:") - before;
    }

    private static long StatusBytes(string field) =>
        long.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith(field, StringComparison.Ordinal))[field.Length..]
            .Trim().Split(' ')[0]) * 1024;
}
