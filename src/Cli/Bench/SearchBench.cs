using System.Diagnostics;
using VQToken.Engine.Compression;
using VQToken.Engine.Models;
using VQToken.Engine.Output;
using VQToken.Engine.Runtime;
using VQToken.Engine.Text;

namespace VQToken.Cli.Bench;

/// <summary>Library search (docs/SEARCH.md) in the bench: one yes/no question ranked over a library of ready videos with
/// their prefix caches warm, against what the same scoring costs with full-token prompts and cold caches.</summary>
/// <remarks>The library is synthesized from the one real fixed-K encoding of the run: its index map, and its codebook
/// with seeded noise added per video (the LLM's cost does not depend on the values, only on the shapes, which are a real
/// video's). The full-token baseline prefills random visual tokens of the full-token count at
/// <see cref="BenchSettings.PrefillFrames"/> frames for a sample of videos and is extrapolated to the library.</remarks>
public static class SearchBench
{
    public const string Question = "Is there a dog on a beach?";
    private const string WarmUpQuestion = "Is it daytime?";

    public static async Task RunAsync(BenchSession session, BenchSettings settings, VideoEncoding real, BenchResults r, Action<string> log)
    {
        var prompt = new YesNoPrompt(session.Tokenizer);
        var ids = prompt.Build(Question);
        int questionTokens = ids.Length - Array.IndexOf(ids, LlavaOneVision.ImageTokenIndex) - 1;   // after the cached prefix

        // Baseline first, while no library prefix is cached (its long prefills then add nothing to the run's peak memory):
        // the same scoring request over full-token visual rows at PrefillFrames frames, prefix cache off.
        int fullRows = ModelCost.FullVisualTokens(session.Config, settings.PrefillFrames);
        var sample = new List<double>();
        for (int i = 0; i < settings.SearchFullSample; i++)
        {
            var encoding = session.RandomVisualTokens(fullRows, seed: 1000 + i);
            var single = Stopwatch.StartNew();
            await session.Engine.ScoreAsync(new ScoreRequest(session.NewKey("search-full"), encoding, ids, prompt.YesId, prompt.NoId, UsePrefixCache: false));
            sample.Add(single.Elapsed.TotalSeconds);
        }

        // Warm: another question over every video leaves each one's system prompt + visual tokens in the prefix cache.
        var library = Library(session, real, settings.SearchVideos);
        var clock = Stopwatch.StartNew();
        await VideoSearch.RankAsync(session.Engine, prompt, WarmUpQuestion, library, top: 1);
        log($"search: {library.Count} videos of {real.VisualTokens} visual tokens warmed in {clock.Elapsed.TotalSeconds:F1} s");

        long hits = session.Engine.PrefixCacheHits;
        clock.Restart();
        var ranked = await VideoSearch.RankAsync(session.Engine, prompt, Question, library, top: 10);
        double warmS = clock.Elapsed.TotalSeconds;
        if (session.Engine.PrefixCacheHits - hits < library.Count || ranked.Any(h => !h.Score.PrefixCacheHit))
            throw new InvalidOperationException("the timed search missed the prefix cache");
        foreach (var video in library) session.Engine.ForgetVideo(video.VideoKey);   // later scenarios do not carry the library's prefixes
        double fullS = sample.Average() * library.Count;

        r["search_videos"] = library.Count;
        r["search_100_videos_s"] = warmS;
        r["search_ms_per_video"] = warmS * 1000 / library.Count;
        r["search_prompt_tokens_per_video"] = ranked[0].Score.PromptTokens;
        r["search_question_tokens_per_video"] = questionTokens;
        r["search_full_tokens_visual_tokens"] = fullRows;
        r["search_full_tokens_s_per_video"] = sample.Average();
        r["search_full_tokens_100_videos_s"] = fullS;
        r["search_speedup_vs_full_tokens"] = fullS / warmS;
        log($"search: {library.Count} videos in {warmS:F2} s warm ({r["search_ms_per_video"]:F0} ms a video, {ranked[0].Score.PromptTokens} prompt tokens, " +
            $"{questionTokens} of them after the cached prefix); full tokens ({fullRows} visual, cold) {sample.Average():F1} s a video over {sample.Count}, " +
            $"{fullS:F0} s extrapolated: {r["search_speedup_vs_full_tokens"]:F0}x");
        r.Goal("search_100_videos_s", $"one yes/no question over {library.Count} ready {settings.Frames}-frame videos, prefix caches warm (s)", false, 30);
        r.Goal("search_speedup_vs_full_tokens", $"that search with full-token prompts at {settings.PrefillFrames} frames, caches cold (sampled, extrapolated) / ours", true, 30);
    }

    /// <summary><paramref name="count"/> videos shaped like <paramref name="real"/>: its index map, its codebook plus seeded noise.</summary>
    private static List<SearchCandidate> Library(BenchSession session, VideoEncoding real, int count)
    {
        var c = real.Compressed ?? throw new ArgumentException("the library is made from a VQToken encoding", nameof(real));
        var codebook = c.CodebookValues.ToArray();
        var indexMap = c.IndexMapValues.ToArray();
        float scale = (float)Math.Sqrt(codebook.Average(v => (double)v * v));
        return Enumerable.Range(0, count).Select(i =>
        {
            var random = new Random(i);
            var varied = codebook.Select(v => v + scale * (float)(random.NextDouble() - 0.5)).ToArray();
            var compressed = CompressedVideo.FromArrays(c.Frames, c.Grid, c.K, c.Dim, varied, indexMap, c.Settings);
            return new SearchCandidate(session.NewKey("library"), real with { Compressed = compressed });
        }).ToList();
    }
}
