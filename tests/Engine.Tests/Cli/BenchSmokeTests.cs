using System.Text.Json;
using VQToken.Cli.Bench;

namespace VQToken.Engine.Tests.Cli;

[Collection(WholeProcessCollection.Name)]
public sealed class BenchSmokeTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("vqtoken-bench-test-");

    /// <summary>The keys the issue asks bench.json for (ratios, fractions and raw timings).</summary>
    public static readonly string[] RequiredKeys =
    [
        "reask_speedup", "vq_vs_full_prefill_speedup", "vq_vs_full_ask_speedup", "vq_vs_full_e2e_speedup",
        "llm_tokens_full", "llm_tokens_vq", "llm_tokens_adaptive", "visual_tokens_full", "visual_tokens_vq", "visual_tokens_adaptive",
        "adaptive_vs_fixed_token_reduction", "adaptive_vs_fixed_e2e_speedup", "compression_over_vision", "compression_over_vision_adaptive",
        "batch8_throughput_gain", "ttft_p50_ms", "ttft_p90_ms", "ttft_p99_ms", "peak_rss_over_weights", "peak_rss_bytes", "weight_bytes", "peak_rss_over_fp32_weights", "float32_weight_bytes",
        "vision_flops_fraction", "decode_over_bandwidth_bound", "vision_ms_per_frame", "prefill_full_ms", "prefill_vq_ms", "decode_step_ms",
        "prefill_full_32f_ms", "prefill_vq_32f_ms", "first_ask_ms", "reask_ms", "ask_full_ms", "ask_vq_ms", "e2e_full_ms", "e2e_vq_ms",
        "e2e_adaptive_ms", "matmul_fp32_gflops", "memcpy_gb_per_s", "load_ms",
        "evidence_overhead", "ask_evidence_ms",
        "search_100_videos_s", "search_speedup_vs_full_tokens", "search_ms_per_video", "search_full_tokens_s_per_video",
        "under_load_slowdown_vision", "under_load_slowdown_compression", "under_load_slowdown_prefill", "under_load_slowdown_decode",
        "vq_prefill_2f_ms", "vq_prefill_4f_ms", "scaling_2f_compression_ms", "scaling_4f_compression_ms", "scaling_4f_peak_rss_bytes",
        "peak_rss_load_bytes", "peak_rss_warm_up_bytes", "peak_rss_upload_answer_vq_bytes", "peak_rss_upload_answer_full_bytes", "peak_rss_re_ask_bytes", "peak_rss_asks_bytes", "peak_rss_upload_answer_adaptive_bytes", "peak_rss_concurrency_bytes", "peak_rss_roofs_without_the_probes_buffers_bytes",
    ];

    [Fact]
    public void Smoke_bench_writes_every_key_with_a_finite_value_and_checks_every_goal()
    {
        string outDir = Path.Combine(_dir.FullName, "out");
        int exit = new BenchCommand().Run(["--smoke", "--out", outDir, "--checkpoint", Path.Combine(_dir.FullName, "tiny"), "--no-docs"]);

        Assert.Equal(0, exit);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "bench.json")));
        var root = json.RootElement;
        var missing = RequiredKeys.Where(k => !root.TryGetProperty(k, out _)).ToList();
        Assert.Empty(missing);
        var notFinite = RequiredKeys.Where(k => root.GetProperty(k).ValueKind != JsonValueKind.Number || !double.IsFinite(root.GetProperty(k).GetDouble())).ToList();
        Assert.Empty(notFinite);
        foreach (var field in new[] { "cores", "cpu_model", "device", "dtype" })
            Assert.False(string.IsNullOrWhiteSpace(root.GetProperty("machine").GetProperty(field).GetString()), field);
        var goals = root.GetProperty("goals").EnumerateArray().Select(g => g.GetProperty("key").GetString()).ToList();
        Assert.Equal(12, goals.Count);
        Assert.All(goals, g => Assert.Contains(g, RequiredKeys));
        Assert.True(new FileInfo(Path.Combine(outDir, "bench-ratios.png")).Length > 1000);
        Assert.True(new FileInfo(Path.Combine(outDir, "bench-scaling.png")).Length > 1000);
        Assert.Equal(2, root.GetProperty("settings").GetProperty("frames").GetInt32());
        Assert.Equal("codebook", root.GetProperty("settings").GetProperty("tokens").GetString());
        Assert.Equal("official", root.GetProperty("settings").GetProperty("elbow").GetString());

        // Re-rendered into a docs file: other engineers' sections stay, ours is replaced, not repeated.
        string docs = Path.Combine(_dir.FullName, "BENCHMARKS.md");
        File.WriteAllText(docs, "# Benchmarks\n\n## Video ingestion\n\nkept as it is\n");
        string[] render = ["--render", Path.Combine(outDir, "bench.json"), "--out", Path.Combine(_dir.FullName, "render"), "--docs", docs];
        Assert.Equal(0, new BenchCommand().Run(render));
        Assert.Equal(0, new BenchCommand().Run(render));
        var text = File.ReadAllText(docs);
        Assert.Contains("## Video ingestion\n\nkept as it is", text);
        Assert.Equal(1, text.Split("## Model benchmark").Length - 1);
        Assert.Contains("| `reask_speedup` |", text);
        Assert.Contains("### Under load", text);
        Assert.Contains("### Scaling with the frame count", text);
        Assert.DoesNotContain(_dir.FullName, text);
        Assert.True(File.Exists(Path.Combine(_dir.FullName, "bench-ratios.png")));
    }

    public void Dispose() => _dir.Delete(recursive: true);
}
