using VQToken.Engine.Compression;
using System.Globalization;
using System.Text;
using VQToken.Cli.Plots;

namespace VQToken.Cli.Bench;

/// <summary>The `bench` section of docs/BENCHMARKS.md (between markers; other sections are kept)
/// and the ratio chart next to it.</summary>
public static class BenchmarksMarkdown
{
    public const string ChartFile = "bench-ratios.png";
    public const string ScalingChartFile = "bench-scaling.png";
    private const string Start = "<!-- bench:start (written by `vqtoken bench`) -->";
    private const string End = "<!-- bench:end -->";

    public static void Update(string path, BenchResults r, BenchSettings settings, string command)
    {
        var text = File.Exists(path) ? File.ReadAllText(path) : "# Benchmarks\n";
        var section = Section(r, settings, command);
        int from = text.IndexOf(Start, StringComparison.Ordinal), to = text.IndexOf(End, StringComparison.Ordinal);
        text = from >= 0 && to > from
            ? text[..from] + section + text[(to + End.Length)..]
            : text.TrimEnd() + "\n\n" + section + "\n";
        File.WriteAllText(path, text);
    }

    /// <summary>The ratio chart at <paramref name="path"/> and, when the run has scaling points, the scaling chart beside it.</summary>
    public static void WriteChart(string path, BenchResults r)
    {
        RatioChart.Write(path, $"VQToken engine benchmark ({r.Machine["device"]}, {r.Machine["dtype"]}, {r.Machine["cores"]} cores)",
            r.Goals.Select(g => new RatioChart.Row(g.Key, g.Value, g.Target, g.Met)).ToList());
        var points = ScalingScenario.Read(r, "");
        if (points.Count > 0)
            ScalingChart.Write(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, ScalingChartFile),
                $"Stage time against frames ({r.Machine["cpu_model"]}, {r.Machine["cores"]} cores)", points);
    }

    private static string Section(BenchResults r, BenchSettings s, string command)
    {
        string F(double v) => v.ToString(Math.Abs(v) >= 100 || v == Math.Floor(v) ? "0" : Math.Abs(v) >= 10 ? "0.0" : "0.###", CultureInfo.InvariantCulture);
        string S(string key) => (r[key] / 1000).ToString("0.00", CultureInfo.InvariantCulture) + " s";
        var b = new StringBuilder();
        b.AppendLine(Start);
        b.AppendLine("## Model benchmark: the paper's efficiency claims on our engine");
        b.AppendLine();
        b.AppendLine("```bash");
        b.AppendLine(command);
        b.AppendLine("```");
        b.AppendLine();
        var m = r.Machine;
        b.AppendLine(Invariant($"Measured {DateTime.UtcNow:yyyy-MM-dd} on {m["cpu_model"]}, {m["cores"]} cores ({m["threads"]} libtorch threads), {m["device"]}, {m["dtype"]}, native bf16: {m["native_bf16"]}. ") +
            Invariant($"Random full-size LLaVA-OneVision-0.5B + VQToken checkpoint, a 10 s 640x360 testsrc2 H.264 video, {s.Frames} frames, K = {s.K} (adaptive {s.MinK}..{s.K}, {s.Elbow.WireName()} elbow), VQToken rows on the {s.Tokens.WireName()} token path, ") +
            Invariant($"answers of exactly {s.AnswerTokens} tokens (greedy, no stop ids), medians of {s.Repeats} runs where repeated. The machine is shared: compare ratios within one run."));
        b.AppendLine();
        b.AppendLine("| claim | bench.json key | measured | goal | met |");
        b.AppendLine("|---|---|---|---|---|");
        foreach (var g in r.Goals) b.AppendLine($"| {g.What} | `{g.Key}` | {F(g.Value)} | {g.Rule} | {(g.Met ? "yes" : "**no**")} |");
        b.AppendLine(Invariant($"| upload → answer incl. vision, VQToken vs full tokens (no goal) | `vq_vs_full_e2e_speedup` | {F(r["vq_vs_full_e2e_speedup"])} | – | – |"));
        b.AppendLine(Invariant($"| compression / vision, adaptive (reported) | `compression_over_vision_adaptive` | {F(r["compression_over_vision_adaptive"])} | – | – |"));
        b.AppendLine();
        b.AppendLine($"![benchmark ratios against goals]({ChartFile})");
        b.AppendLine();
        b.AppendLine("Tokens and times per mode (one upload → answer each; asks without prefix cache are medians):");
        b.AppendLine();
        b.AppendLine("| mode | visual tokens | tokens fed to the LLM | vision | compression | upload → answer | ask (no prefix cache) | prefill |");
        b.AppendLine("|---|---|---|---|---|---|---|---|");
        b.AppendLine(Invariant($"| full tokens (LLaVA-OV) | {r["visual_tokens_full"]} | {r["llm_tokens_full"]} | {S("vision_full_ms")} | {F(r["compression_full_ms"])} ms | {S("e2e_full_ms")} | {S("ask_full_ms")} | {S("prefill_full_ms")} |"));
        b.AppendLine(Invariant($"| VQToken fixed K={s.K}, {s.Tokens.WireName()} | {r["visual_tokens_vq"]} | {r["llm_tokens_vq"]} | {S("vision_vq_ms")} | {F(r["compression_vq_ms"])} ms | {S("e2e_vq_ms")} | {S("ask_vq_ms")} | {S("prefill_vq_ms")} |"));
        b.AppendLine(Invariant($"| VQToken adaptive, {s.Elbow.WireName()} elbow, {s.Tokens.WireName()} (chose K={r["adaptive_k"]}) | {r["visual_tokens_adaptive"]} | {r["llm_tokens_adaptive"]} | {S("vision_adaptive_ms")} | {F(r["compression_adaptive_ms"])} ms | {S("e2e_adaptive_ms")} | – | – |"));
        b.AppendLine();
        b.AppendLine(Invariant($"Adaptive vs fixed: {F(r["adaptive_vs_fixed_token_reduction"])}x fewer visual tokens, upload → answer {F(r["adaptive_vs_fixed_e2e_speedup"])}x the speed of fixed."));
        b.AppendLine();
        var stagePeaks = r.Values.Where(v => v.Key.StartsWith("peak_rss_", StringComparison.Ordinal) && v.Key.EndsWith("_bytes", StringComparison.Ordinal)
            && v.Key != "peak_rss_bytes" && !v.Key.Contains("scaling", StringComparison.Ordinal)).ToList();
        if (stagePeaks.Count > 0)
        {
            b.AppendLine("Peak RSS by stage (the peak is reset after each): " + string.Join(", ", stagePeaks.Select(p =>
                Invariant($"{p.Key["peak_rss_".Length..^"_bytes".Length].Replace('_', ' ')} {p.Value / 1e9:0.00} GB"))) + ".");
            b.AppendLine();
        }
        b.Append(UnderLoadScenario.Table(r));
        b.Append(ScalingScenario.Table(r, s));
        b.AppendLine("Raw values ([bench.json](bench.json)):");
        b.AppendLine();
        b.AppendLine("| key | value |");
        b.AppendLine("|---|---|");
        foreach (var (key, value) in r.Values) b.AppendLine($"| `{key}` | {F(value)} |");
        b.AppendLine();
        b.AppendLine("How it is measured: *first ask* = ffmpeg sampling + vision + compression + ask (prefix cache miss); *re-ask* = the same " +
                     "question again (prefix cache hit: question prefill + answer). *Prefill at " + s.PrefillFrames + " frames* runs the LLM alone " +
                     "on random visual tokens (" + r["visual_tokens_full_32f"] + " vs " + r["visual_tokens_vq_32f"] + " rows, logits of the last " +
                     "position only). *Vision FLOP fraction* = FLOPs counted from the shapes (SigLIP kept layers + projector) per second of the " +
                     "engine's vision stage, over a 2048² fp32 matmul's FLOP/s in the same process (best of four measurements between scenarios; memcpy likewise). *Decode over bandwidth bound* = a batch-1 " +
                     "decode step over (its weight bytes as held — bf16 or float32 — decoder layers + lm_head) / (tensor-copy bandwidth counted as bytes read + written). " +
                     "*Peak RSS* = the largest VmHWM of the benchmark process over its stages (loading, every scenario, the 32-frame prefill " +
                     "included; not the roof probes' 512 MB copy buffers nor a checkpoint generated by the run; the scaling points come after and are reported on their own) " +
                     "over the weights as held on the device, and over the float32 size of the same weights.");
        b.Append(End);
        return b.ToString();
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
