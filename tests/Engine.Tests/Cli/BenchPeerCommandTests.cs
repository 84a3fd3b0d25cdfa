using System.Text.Json;
using VQToken.Cli;
using VQToken.Testing;

namespace VQToken.Engine.Tests.Cli;

/// <summary>`bench-peer` times the ONNX Runtime peer's work on our engine under the peer's key names.</summary>
[Collection(WholeProcessCollection.Name)]   // swaps Console.Out
public sealed class BenchPeerCommandTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("vqtoken-bench-peer-test-");

    [Fact]
    public void Prints_the_peers_figures_at_its_prompt_lengths_and_a_table_against_its_json()
    {
        string model = Path.Combine(_dir.FullName, "tiny");
        RandomCheckpoint.Write(model, new RandomCheckpoint.Options(CheckpointSize.Tiny, Seed: 5));
        string peer = Path.Combine(_dir.FullName, "peer.json");
        File.WriteAllText(peer, "[bench] noise before the JSON line\n{\"engine\":\"onnxruntime-node 1.30.0\",\"vision_ms_per_frame\":1000,\"prefill_vq_ms\":250}\n");

        var (code, output, _) = CommandLineTests.Capture(() => new BenchPeerCommand().Run(
            ["--model", model, "--reps", "2", "--heavy-reps", "1", "--frames", "2", "--against", peer]));

        Assert.Equal(0, code);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        using var json = JsonDocument.Parse(lines[0]);
        var root = json.RootElement;
        Assert.Equal(BenchPeerCommand.FullPositions(2), root.GetProperty("prefill_full_positions").GetInt32());
        Assert.Equal(2 * 196 + 1 + 30, BenchPeerCommand.FullPositions(2));
        Assert.Equal(63, root.GetProperty("prefill_vq_positions").GetInt32());
        foreach (var key in new[] { "vision_ms_per_frame", "vision_b1_ms_per_frame", "prefill_full_ms", "prefill_vq_ms", "decode_step_ms", "matmul2048_gflops" })
            Assert.True(root.GetProperty(key).GetDouble() > 0, key);
        // The table has the two figures the peer gave, each with peer / ours.
        var rows = lines.Where(l => l.StartsWith("| vision_ms_per_frame |", StringComparison.Ordinal) || l.StartsWith("| prefill_vq_ms |", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, rows.Count);
        double ours = root.GetProperty("prefill_vq_ms").GetDouble();
        Assert.Contains($"| {ours:F1} | 250.0 | {250 / ours:F2} |", rows[1]);
        Assert.DoesNotContain(lines, l => l.StartsWith("| prefill_full_ms |", StringComparison.Ordinal));   // the peer did not give it
    }

    [Fact]
    public void A_directory_without_a_checkpoint_fails_with_the_way_to_make_one()
    {
        var (code, _, error) = CommandLineTests.Capture(() => new BenchPeerCommand().Run(["--model", _dir.FullName]));

        Assert.Equal(1, code);
        Assert.Contains("make-checkpoint", error);
    }

    public void Dispose() => _dir.Delete(recursive: true);
}
