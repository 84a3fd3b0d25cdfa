using System.Diagnostics;
using System.Globalization;
using TorchSharp;
using VQToken.Engine.Checkpoints;
using VQToken.Engine.Compression;
using VQToken.Engine.Runtime;
using VQToken.Ingestion;

namespace VQToken.Cli.Bench;

/// <summary>Runs the benchmark scenarios on one engine and collects <see cref="BenchResults"/>.
/// Vision passes are the expensive part on CPU (seconds per frame): each mode's upload → answer runs
/// the tower once, and every other scenario reuses those encodings (asks, re-asks, concurrency) or
/// uses random visual tokens (the LLM-only prefill at 32 frames).</summary>
public sealed class BenchRunner(BenchSettings settings, CliProgress progress, CliProgressBar bar)
{
    /// <summary>Stages <see cref="RunAsync"/> advances the bar by.</summary>
    public const int Stages = 12;

    public async Task<BenchResults> RunAsync(string video)
    {
        var r = new BenchResults();
        torch.set_num_threads(settings.EffectiveThreads);
        Stage("loading the model");
        await using var session = await BenchSession.OpenAsync(settings);
        bar.Advance();
        Describe(r, session);
        r["load_ms"] = session.LoadMs;
        Log($"model loaded in {session.LoadMs / 1000:F1} s ({session.Model.WeightBytes / 1e9:F2} GB of weights as {session.Model.DType})");
        PeakSoFar("load");

        Stage("warm-up");
        MeasureRoofs(r);
        await WarmUpAsync(session);
        PeakSoFar("warm-up");
        bar.Advance();
        var (fixedRun, adaptiveRun, fullRun) = await EndToEndAsync(session, video, r);
        Stage("re-ask");
        MeasureRoofs(r);
        await ReAskAsync(session, fixedRun, r);
        await EvidenceOverheadAsync(session, fixedRun, r);
        PeakSoFar("re-ask");
        bar.Advance();
        Stage("asks without the prefix cache");
        await AskWithoutPrefixCacheAsync(session, fixedRun, fullRun, r);
        PeakSoFar("asks");
        bar.Advance();
        Stage($"prefill at {settings.PrefillFrames} frames");
        MeasureRoofs(r);
        await PrefillAtPaperFramesAsync(session, r);
        PeakSoFar($"prefill at {settings.PrefillFrames} frames");
        bar.Advance();
        Stage($"library search over {settings.SearchVideos} videos");
        await SearchBench.RunAsync(session, settings, fixedRun.Encoding, r, Log);
        PeakSoFar("library search");
        Stage($"{settings.Concurrency} concurrent asks");
        await ConcurrencyAsync(session, fixedRun, r);
        PeakSoFar("concurrency");
        bar.Advance();
        if (settings.LoadNeighbours > 0)
        {
            Stage($"under load ({settings.LoadNeighbours} busy neighbours)");
            await new UnderLoadScenario(settings, session, Log).RunAsync(r);
            PeakSoFar("under load");
        }
        bar.Advance();
        Stage("roofs");
        MeasureRoofs(r);
        PeakSoFar("roofs (without the probes' buffers)");
        bar.Advance();
        Log($"roofs (best of the run): fp32 matmul {r["matmul_fp32_gflops"]:F0} GFLOP/s, memcpy {r["memcpy_gb_per_s"]:F1} GB/s");
        Rooflines(session, r);
        Tokens(fixedRun, adaptiveRun, fullRun, r);

        foreach (var (stage, bytes) in _stagePeaks) r[StagePeakKey(stage)] = bytes;
        r["peak_rss_bytes"] = Math.Max(HardwareProbe.PeakRssBytes(), _stagePeaks.Max(p => p.Bytes));
        r["weight_bytes"] = session.Model.WeightBytes;
        r["peak_rss_over_weights"] = r["peak_rss_bytes"] / r["weight_bytes"];
        r["float32_weight_bytes"] = session.Model.Float32WeightBytes;
        r["peak_rss_over_fp32_weights"] = r["peak_rss_bytes"] / r["float32_weight_bytes"];
        // After the whole-run peak is read: the scaling points reset the peak to measure each one alone.
        Stage("scaling with the frame count");
        var scaling = new ScalingScenario(settings, Log);
        await scaling.RunAsync(session, settings.ScalingFrames, "", r);
        await scaling.RunTinyAsync(settings.ScalingTinyFrames, progress, r);
        ScalingScenario.Summarise(r);
        bar.Advance();
        AddGoals(r, session);
        return r;
    }

    private void Stage(string name) => bar.Describe("bench: " + name);

    private void Log(string line) => Log(progress, line);

    internal static void Log(CliProgress progress, string line) => progress.Log($"[bench {DateTime.Now:HH:mm:ss}] {line}");

    private readonly List<(string Stage, double Bytes)> _stagePeaks = [];
    private long _carriedPeak;

    /// <summary>Logs and keeps the peak resident memory of the stage that just ended, then resets the peak, so each
    /// stage's own peak is known (which one sets the whole run's); the run's peak is the largest of them.</summary>
    private void PeakSoFar(string stage)
    {
        long peak = Math.Max(_carriedPeak, HardwareProbe.PeakRssBytes());
        _carriedPeak = 0;
        _stagePeaks.Add((stage, peak));
        Log($"peak RSS during {stage}: {peak / 1e9:F2} GB (resident now {HardwareProbe.ResidentBytes() / 1e9:F2} GB)");
        HardwareProbe.ResetPeakRss();
    }

    /// <summary>bench.json key of a stage's peak: `peak_rss_{stage as a slug}_bytes`.</summary>
    public static string StagePeakKey(string stage) =>
        "peak_rss_" + string.Join('_', System.Text.RegularExpressions.Regex.Split(stage.ToLowerInvariant(), "[^a-z0-9]+").Where(w => w.Length > 0)) + "_bytes";

    /// <summary>The machine's roofs, measured between scenarios (the engine idle) and kept at their
    /// best: on a shared machine a roof measured once in a busy moment would flatter every fraction.</summary>
    private void MeasureRoofs(BenchResults r)
    {
        // The probes' buffers (a 512 MB copy) are the bench's own: the stage's peak so far is kept, theirs is not.
        _carriedPeak = Math.Max(_carriedPeak, HardwareProbe.PeakRssBytes());
        double flops = HardwareProbe.MatmulFlops(settings.MatmulSize, 3) / 1e9, bandwidth = HardwareProbe.MemcpyBandwidth(settings.MemcpyBytes, 5) / 1e9;
        HardwareProbe.ResetPeakRss();
        r["matmul_fp32_gflops"] = Math.Max(flops, r.Values.GetValueOrDefault("matmul_fp32_gflops"));
        r["memcpy_gb_per_s"] = Math.Max(bandwidth, r.Values.GetValueOrDefault("memcpy_gb_per_s"));
    }

    private void Describe(BenchResults r, BenchSession session)
    {
        r.Machine["cores"] = Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture);
        r.Machine["cpu_model"] = HardwareProbe.CpuModel();
        r.Machine["native_bf16"] = HardwareProbe.HasNativeBf16() ? "yes" : "no";
        r.Machine["device"] = session.Model.Device;
        r.Machine["dtype"] = session.Model.DType;
        r.Machine["checkpoint"] = settings.Size.ToString().ToLowerInvariant() + " random";
        r.Machine["threads"] = settings.EffectiveThreads.ToString(CultureInfo.InvariantCulture);
        r.Machine["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription;
        r.Machine["omp_wait_policy"] = Environment.GetEnvironmentVariable(Engine.Runtime.OpenMpWaitPolicy.Variable) is { Length: > 0 } policy ? policy
            : $"libgomp default ({Engine.Runtime.OpenMpWaitPolicy.SpinCountVariable}={Environment.GetEnvironmentVariable(Engine.Runtime.OpenMpWaitPolicy.SpinCountVariable)})";
        r.Machine["torchsharp"] = typeof(torch).Assembly.GetName().Version?.ToString() ?? "?";
    }

    /// <summary>One frame through the tower and one short ask, so one-time costs (kernel choice, first
    /// allocations) land in no measurement.</summary>
    private async Task WarmUpAsync(BenchSession session)
    {
        var clock = Stopwatch.StartNew();
        var frames = new RgbFrames(1, session.Config.Vision.ImageSize, new byte[session.Config.Vision.ImageSize * session.Config.Vision.ImageSize * 3]);
        var key = session.NewKey("warm-up");
        var encoding = await session.EncodeAsync(key, frames, CompressionMode.VQTokenFixed);
        await session.AskAsync(key, encoding, usePrefixCache: false, tokens: 2);
        Log($"warm-up {clock.Elapsed.TotalSeconds:F1} s");
    }

    private async Task<(EndToEndRun Fixed, EndToEndRun Adaptive, EndToEndRun Full)> EndToEndAsync(BenchSession session, string video, BenchResults r)
    {
        var runs = new Dictionary<CompressionMode, EndToEndRun>();
        foreach (var (mode, name) in new[] { (CompressionMode.VQTokenFixed, "vq"), (CompressionMode.VQTokenAdaptive, "adaptive"), (CompressionMode.Full, "full") })
        {
            Stage($"upload → answer {name}");
            var run = await session.UploadAndAskAsync(video, mode);
            runs[mode] = run;
            PeakSoFar($"upload → answer {name}");
            bar.Advance();
            r[$"e2e_{name}_ms"] = run.TotalMs;
            r[$"sample_frames_{name}_ms"] = run.SampleMs;
            r[$"vision_{name}_ms"] = run.Encoding.VisionMs;
            r[$"compression_{name}_ms"] = run.Encoding.CompressionMs;
            r[$"ask_{name}_first_ms"] = run.Answer.TotalMs;
            Log($"upload → answer {name}: {run.TotalMs / 1000:F1} s (sample {run.SampleMs / 1000:F1}, vision {run.Encoding.VisionMs / 1000:F1}, " +
                $"compress {run.Encoding.CompressionMs:F0} ms, ask {run.Answer.TotalMs / 1000:F2} s, {run.Encoding.VisualTokens} visual tokens)");
        }
        var (vq, adaptive, full) = (runs[CompressionMode.VQTokenFixed], runs[CompressionMode.VQTokenAdaptive], runs[CompressionMode.Full]);
        r["first_ask_ms"] = vq.TotalMs;
        r["vq_vs_full_e2e_speedup"] = full.TotalMs / vq.TotalMs;
        r["adaptive_vs_fixed_e2e_speedup"] = vq.TotalMs / adaptive.TotalMs;
        double frames = settings.Frames * 3.0;
        r["vision_ms_per_frame"] = (vq.Encoding.VisionMs + adaptive.Encoding.VisionMs + full.Encoding.VisionMs) / frames;
        r["compression_over_vision"] = vq.Encoding.CompressionMs / vq.Encoding.VisionMs;
        r["compression_over_vision_adaptive"] = adaptive.Encoding.CompressionMs / adaptive.Encoding.VisionMs;
        return (vq, adaptive, full);
    }

    /// <summary>The same question again on the processed video: prefix cache hit, question + answer only.</summary>
    private async Task ReAskAsync(BenchSession session, EndToEndRun vq, BenchResults r)
    {
        var times = new List<double>();
        for (int i = 0; i < settings.Repeats; i++)
        {
            var answer = await session.AskAsync(vq.Key, vq.Encoding, usePrefixCache: true);
            if (!answer.PrefixCacheHit) throw new InvalidOperationException("the re-ask missed the prefix cache");
            times.Add(answer.TotalMs);
        }
        r["reask_ms"] = Percentiles.Median(times);
        r["reask_speedup"] = r["first_ask_ms"] / r["reask_ms"];
        Log($"re-ask {r["reask_ms"]:F0} ms: {r["reask_speedup"]:F1}x faster than the first ask");
    }

    /// <summary>The re-ask with and without evidence, alternated so drift hits both alike: what measuring where
    /// the answer looked adds to an ask (its prompt prefix cached, as the service asks).</summary>
    private async Task EvidenceOverheadAsync(BenchSession session, EndToEndRun vq, BenchResults r)
    {
        var plain = new List<double>();
        var measured = new List<double>();
        for (int i = 0; i < Math.Max(3, settings.Repeats); i++)
        {
            plain.Add((await session.AskAsync(vq.Key, vq.Encoding, usePrefixCache: true)).TotalMs);
            var answer = await session.AskAsync(vq.Key, vq.Encoding, usePrefixCache: true, evidence: true);
            if (answer.Evidence is null) throw new InvalidOperationException("the evidence ask returned no evidence");
            measured.Add(answer.TotalMs);
        }
        r["ask_evidence_ms"] = Percentiles.Median(measured);
        r["evidence_overhead"] = r["ask_evidence_ms"] / Percentiles.Median(plain) - 1;
        Log($"ask with evidence {r["ask_evidence_ms"]:F0} ms: {100 * r["evidence_overhead"]:F1} % over the same ask without");
    }

    /// <summary>Asks on already processed videos with the prefix cache off: prefill of the whole prompt + answer.</summary>
    private async Task AskWithoutPrefixCacheAsync(BenchSession session, EndToEndRun vq, EndToEndRun full, BenchResults r)
    {
        foreach (var (run, name) in new[] { (vq, "vq"), (full, "full") })
        {
            var totals = new List<double>();
            var prefills = new List<double>();
            var steps = new List<double>();
            for (int i = 0; i < settings.Repeats; i++)
            {
                var answer = await session.AskAsync(run.Key, run.Encoding, usePrefixCache: false);
                totals.Add(answer.TotalMs);
                prefills.Add(answer.PrefillMs);
                steps.Add(answer.DecodeMs / Math.Max(1, answer.Tokens.Count - 1));
            }
            r[$"ask_{name}_ms"] = Percentiles.Median(totals);
            r[$"prefill_{name}_ms"] = Percentiles.Median(prefills);
            r[$"decode_step_{name}_ms"] = Percentiles.Median(steps);
            Log($"ask {name} (no prefix cache): {r[$"ask_{name}_ms"]:F0} ms, prefill {r[$"prefill_{name}_ms"]:F0} ms, decode step {r[$"decode_step_{name}_ms"]:F1} ms");
        }
        r["decode_step_ms"] = r["decode_step_vq_ms"];
        r["vq_vs_full_ask_speedup"] = r["ask_full_ms"] / r["ask_vq_ms"];
    }

    /// <summary>LLM prefill only, at the paper's frame count, on random visual tokens: full-token
    /// baseline (T·196 + 1) vs VQToken (max(T, K) + 1); logits for the last position only.</summary>
    private async Task PrefillAtPaperFramesAsync(BenchSession session, BenchResults r)
    {
        int fullRows = ModelCost.FullVisualTokens(session.Config, settings.PrefillFrames);
        int vqRows = ModelCost.VQVisualTokens(settings.PrefillFrames, settings.K, settings.Tokens);
        async Task<double> Prefill(int rows, int repeats)
        {
            var encoding = session.RandomVisualTokens(rows, seed: rows);
            var times = new List<double>();
            for (int i = 0; i < repeats; i++)
                times.Add((await session.AskAsync(session.NewKey("prefill"), encoding, usePrefixCache: false, tokens: 1)).PrefillMs);
            return Percentiles.Median(times);
        }
        r["prefill_vq_32f_ms"] = await Prefill(vqRows, Math.Max(3, settings.Repeats));
        r["prefill_full_32f_ms"] = await Prefill(fullRows, settings.FullPrefillRepeats);
        r["visual_tokens_full_32f"] = fullRows;
        r["visual_tokens_vq_32f"] = vqRows;
        r["vq_vs_full_prefill_speedup"] = r["prefill_full_32f_ms"] / r["prefill_vq_32f_ms"];
        Log($"prefill at {settings.PrefillFrames} frames: {fullRows} visual tokens {r["prefill_full_32f_ms"]:F0} ms vs {vqRows} visual tokens " +
            $"{r["prefill_vq_32f_ms"]:F0} ms: {r["vq_vs_full_prefill_speedup"]:F0}x");
    }

    /// <summary>1 vs N asks at once on the processed video (prefix cache on, as the service runs):
    /// answer tokens per second of wall time; time to first token of the concurrent asks.</summary>
    private async Task ConcurrencyAsync(BenchSession session, EndToEndRun vq, BenchResults r)
    {
        var single = new List<double>();
        var batched = new List<double>();
        var firstTokens = new List<double>();
        for (int i = 0; i < settings.Repeats; i++)
        {
            var clock = Stopwatch.StartNew();
            var one = await session.AskAsync(vq.Key, vq.Encoding, usePrefixCache: true);
            single.Add(one.Tokens.Count / clock.Elapsed.TotalSeconds);

            clock.Restart();
            var answers = await Task.WhenAll(Enumerable.Range(0, settings.Concurrency)
                .Select(_ => session.AskAsync(vq.Key, vq.Encoding, usePrefixCache: true)));
            batched.Add(answers.Sum(a => a.Tokens.Count) / clock.Elapsed.TotalSeconds);
            firstTokens.AddRange(answers.Select(a => a.TimeToFirstTokenMs));
        }
        r["throughput_1_tokens_per_s"] = Percentiles.Median(single);
        r[$"throughput_{settings.Concurrency}_tokens_per_s"] = Percentiles.Median(batched);
        r["batch8_throughput_gain"] = r[$"throughput_{settings.Concurrency}_tokens_per_s"] / r["throughput_1_tokens_per_s"];
        r["ttft_p50_ms"] = Percentiles.Of(firstTokens, 50);
        r["ttft_p90_ms"] = Percentiles.Of(firstTokens, 90);
        r["ttft_p99_ms"] = Percentiles.Of(firstTokens, 99);
        Log($"throughput: 1 ask {r["throughput_1_tokens_per_s"]:F1} tok/s, {settings.Concurrency} asks {r[$"throughput_{settings.Concurrency}_tokens_per_s"]:F1} tok/s " +
            $"({r["batch8_throughput_gain"]:F2}x); TTFT p50 {r["ttft_p50_ms"]:F0} ms, p90 {r["ttft_p90_ms"]:F0} ms");
    }

    /// <summary>Vision FLOP/s against the fp32 matmul roof; decode step against streaming its weights once.</summary>
    private static void Rooflines(BenchSession session, BenchResults r)
    {
        double flopsPerFrame = ModelCost.VisionFlopsPerFrame(session.Config);
        r["vision_gflop_per_frame"] = flopsPerFrame / 1e9;
        r["vision_gflops"] = flopsPerFrame / (r["vision_ms_per_frame"] / 1000) / 1e9;
        r["vision_flops_fraction"] = r["vision_gflops"] / r["matmul_fp32_gflops"];
        // The bytes as held: bf16-resident weights stream 2 bytes each (their biases and norms, float32, are noise).
        int elementSize = session.Model.DType == nameof(torch.ScalarType.Float32) && !session.Model.Bf16Resident ? 4 : 2;
        r["decode_weight_bytes"] = ModelCost.DecodeWeightBytes(session.Config, elementSize);
        r["decode_bandwidth_bound_ms"] = r["decode_weight_bytes"] / (r["memcpy_gb_per_s"] * 1e9) * 1000;
        r["decode_over_bandwidth_bound"] = r["decode_step_ms"] / r["decode_bandwidth_bound_ms"];
    }

    private void Tokens(EndToEndRun vq, EndToEndRun adaptive, EndToEndRun full, BenchResults r)
    {
        foreach (var (run, name) in new[] { (vq, "vq"), (adaptive, "adaptive"), (full, "full") })
        {
            r[$"visual_tokens_{name}"] = run.Encoding.VisualTokens;
            r[$"llm_tokens_{name}"] = run.Answer.PromptTokens;
        }
        r["adaptive_k"] = adaptive.Encoding.Compressed?.K ?? double.NaN;
        r["adaptive_vs_fixed_token_reduction"] = r["visual_tokens_vq"] / r["visual_tokens_adaptive"];
        r["vq_vs_full_token_reduction"] = r["visual_tokens_full"] / r["visual_tokens_vq"];
        r["frames"] = settings.Frames;
        r["answer_tokens"] = settings.AnswerTokens;
    }

    private void AddGoals(BenchResults r, BenchSession session)
    {
        r.Goal("reask_speedup", "re-ask on the cached video vs first ask (upload → answer)", true, 20);
        r.Goal("vq_vs_full_prefill_speedup", $"LLM prefill at {settings.PrefillFrames} frames, VQToken vs full tokens", true, 50);
        r.Goal("vq_vs_full_ask_speedup", "ask on a processed video (prefix cache off), VQToken vs full tokens", true, 4);
        r.Goal("compression_over_vision", $"compression time / vision time, fixed K={settings.K}", false, 0.05);
        r.Goal("batch8_throughput_gain", $"{settings.Concurrency} concurrent asks vs 1, answer tokens per second", true, 4);
        r.Goal("peak_rss_over_weights", "peak resident memory / weight bytes", false, 1.6);
        r.Goal("vision_flops_fraction", "vision FLOP/s / fp32 matmul FLOP/s", true, 0.7);
        r.Goal("peak_rss_over_fp32_weights", "peak resident memory / the weights' float32 size", false, 0.9);
        r.Goal("evidence_overhead", "ask time with evidence / without − 1 (re-ask, VQToken)", false, 0.10);
        r.Goal("decode_over_bandwidth_bound", "batch-1 decode step / time to stream its weights once, as held", false, 1.3);
        // Only where the run measured them (the smoke run's counts are smaller).
        if (r.Values.ContainsKey("vq_prefill_1024_over_8"))
            r.Goal("vq_prefill_1024_over_8", "VQ prefill at 1024 frames / at 8 frames (tiny model)", false, 1.2);
        if (r.Values.ContainsKey("compression_256_frames_s"))
            r.Goal("compression_256_frames_s", string.Create(CultureInfo.InvariantCulture, $"compression at 256 frames ({256 * session.Config.Vision.NumPatches:N0} x {session.Config.Text.HiddenSize} rows, K={settings.K}), seconds"), false, 3);
    }
}
