using System.Diagnostics;
using System.Text.Json.Nodes;
using VQToken.Cli.Bench;

namespace VQToken.Engine.Tests.Cli;

public sealed class BenchScenarioTests
{
    private static BenchSettings Settings => new() { Checkpoint = "unused", OutDir = "unused" };

    [Fact]
    public void Under_load_slowdown_is_loaded_time_over_quiet_time_per_stage()
    {
        var quiet = new UnderLoadScenario.StageTimes(VisionMsPerFrame: 100, CompressionMs: 50, PrefillMs: 400, DecodeStepMs: 40);
        var loaded = new UnderLoadScenario.StageTimes(VisionMsPerFrame: 210, CompressionMs: 500, PrefillMs: 800, DecodeStepMs: 30);

        var slowdowns = UnderLoadScenario.Slowdowns(quiet, loaded);

        Assert.Equal(UnderLoadScenario.Stages, slowdowns.Keys);
        Assert.Equal(2.1, slowdowns["vision"], 9);
        Assert.Equal(10, slowdowns["compression"], 9);
        Assert.Equal(2, slowdowns["prefill"], 9);
        Assert.Equal(0.75, slowdowns["decode"], 9);
    }

    [Fact]
    public void Under_load_table_shows_each_stage_with_its_slowdown_and_is_absent_when_the_scenario_was_skipped()
    {
        var r = new BenchResults();
        Assert.Equal("", UnderLoadScenario.Table(r));

        r.Machine["omp_wait_policy"] = "PASSIVE";
        r["under_load_neighbours"] = 2;
        foreach (var (stage, i) in UnderLoadScenario.Stages.Select((s, i) => (s, i + 1)))
        {
            r[$"under_load_quiet_{stage}_ms"] = 10 * i;
            r[$"under_load_loaded_{stage}_ms"] = 25 * i;
            r[$"under_load_slowdown_{stage}"] = 2.5;
        }
        var table = UnderLoadScenario.Table(r);

        Assert.Contains("| compression, fixed K | 20 ms | 50 ms | 2.50x |", table);
        Assert.Contains("| decode step, batch 1 | 40 ms | 100 ms | 2.50x |", table);
        Assert.Contains("2 busy-loop neighbour processes", table);
        Assert.Contains("PASSIVE", table);
    }

    [Fact]
    public void Cpu_neighbours_burn_cpu_while_alive_and_are_gone_after_dispose()
    {
        int[] ids;
        using (var neighbours = new CpuNeighbours(2))
        {
            Thread.Sleep(300);
            ids = Process.GetProcesses().Where(p => p.ProcessName == "sh" && IsChildOfThis(p.Id)).Select(p => p.Id).ToArray();
            Assert.Equal(2, ids.Length);
            Assert.All(ids, id => Assert.True(Process.GetProcessById(id).TotalProcessorTime > TimeSpan.FromMilliseconds(50)));
        }
        Assert.All(ids, id => Assert.False(IsChildOfThis(id), $"neighbour {id} still runs"));
    }

    private static bool IsChildOfThis(int pid)
    {
        try
        {
            var status = File.ReadAllLines($"/proc/{pid}/status");
            return status.Any(l => l == "State:\tZ (zombie)") is false
                && status.First(l => l.StartsWith("PPid:", StringComparison.Ordinal))[5..].Trim() == Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return false;
        }
    }

    [Fact]
    public void Scaling_points_survive_bench_json_and_come_back_in_frame_order()
    {
        var r = new BenchResults();
        r.Machine["x"] = "y";
        ScalingScenario.Write(new ScalingScenario.Point(256, 3600, false, 2500, 33, 50177, 710, 3.1e9), "", r);
        ScalingScenario.Write(new ScalingScenario.Point(8, 3500, true, 150, 33, 1569, 700, 2.0e9), "", r);
        ScalingScenario.Write(new ScalingScenario.Point(1024, 20, true, 900, 33, 200705, 30, 0.9e9), ScalingScenario.TinyPrefix, r);

        var back = BenchResults.FromJson(r.ToJson(Settings));

        Assert.Equal([8, 256], ScalingScenario.Read(back, "").Select(p => p.Frames));
        Assert.Equal(new ScalingScenario.Point(256, 3600, false, 2500, 33, 50177, 710, 3.1e9), ScalingScenario.Read(back, "")[1]);
        Assert.Equal([1024], ScalingScenario.Read(back, ScalingScenario.TinyPrefix).Select(p => p.Frames));
        Assert.Equal(700, back["vq_prefill_8f_ms"]);
    }

    [Fact]
    public void Summary_keys_appear_only_for_the_frame_counts_that_define_them()
    {
        var r = new BenchResults();
        ScalingScenario.Write(new ScalingScenario.Point(8, 3500, true, 150, 33, 1569, 700, 2e9), "", r);
        ScalingScenario.Write(new ScalingScenario.Point(32, 3500, true, 600, 33, 6273, 770, 2e9), "", r);
        ScalingScenario.Summarise(r);
        Assert.False(r.Values.ContainsKey("vq_prefill_1024_over_8"));
        Assert.False(r.Values.ContainsKey("compression_256_frames_s"));
        Assert.Equal(1.1, r["vq_prefill_largest_over_smallest"], 9);

        ScalingScenario.Write(new ScalingScenario.Point(256, 3500, false, 2750, 33, 50177, 700, 3e9), "", r);
        ScalingScenario.Write(new ScalingScenario.Point(8, 15, true, 10, 33, 1569, 40, 1e8), ScalingScenario.TinyPrefix, r);
        ScalingScenario.Write(new ScalingScenario.Point(1024, 15, true, 900, 33, 200705, 46, 1e9), ScalingScenario.TinyPrefix, r);
        ScalingScenario.Summarise(r);
        Assert.Equal(1.15, r["vq_prefill_1024_over_8"], 9);
        Assert.Equal(2.75, r["compression_256_frames_s"], 9);
    }

    [Fact]
    public void Scaling_table_lists_both_models_and_marks_estimated_vision_as_linear()
    {
        var r = new BenchResults();
        r.Machine["checkpoint"] = "full random";
        ScalingScenario.Write(new ScalingScenario.Point(32, 3500, true, 600, 33, 6273, 770, 2.5e9), "", r);
        ScalingScenario.Write(new ScalingScenario.Point(256, 3500, false, 2750, 33, 50177, 700, 3e9), "", r);
        ScalingScenario.Write(new ScalingScenario.Point(1024, 15, true, 900, 33, 200705, 46, 1e9), ScalingScenario.TinyPrefix, r);
        ScalingScenario.Summarise(r);

        var table = ScalingScenario.Table(r, Settings);

        Assert.Contains("| full random | 32 | 3.500 s | 0.600 s | 33 (6273) | 770 ms | 2.50 GB |", table);
        Assert.Contains("| full random | 256 | 3.500 s (linear) | 2.750 s | 33 (50177) | 700 ms | 3.00 GB |", table);
        Assert.Contains("| tiny random (the full model's vision would take hours on 2 cores) | 1024 | 0.015 s | 0.900 s | 33 (200705) | 46 ms | 1.00 GB |", table);
        Assert.Contains("`compression_256_frames_s` = 2.75", table);
        Assert.Equal("", ScalingScenario.Table(new BenchResults(), Settings));
    }

    [Theory]
    [InlineData("8,32,64", new[] { 8, 32, 64 })]
    [InlineData(" 64, 8 ,8", new[] { 8, 64 })]
    [InlineData("none", new int[0])]
    [InlineData("", new int[0])]
    public void Frame_count_lists_parse_sorted_and_deduplicated(string text, int[] expected)
    {
        Assert.True(ScalingScenario.TryParseCounts(text, out var counts));
        Assert.Equal(expected, counts);
    }

    [Theory]
    [InlineData("8,x")]
    [InlineData("0,8")]
    [InlineData("-8")]
    [InlineData("8;32")]
    public void Bad_frame_count_lists_are_refused(string text) => Assert.False(ScalingScenario.TryParseCounts(text, out _));

    [Theory]
    [InlineData("upload → answer", "peak_rss_upload_answer_bytes")]
    [InlineData("prefill at 32 frames", "peak_rss_prefill_at_32_frames_bytes")]
    [InlineData("Load and warm-up", "peak_rss_load_and_warm_up_bytes")]
    public void Stage_peak_keys_are_slugs_of_the_stage_names(string stage, string key) => Assert.Equal(key, BenchRunner.StagePeakKey(stage));
}
