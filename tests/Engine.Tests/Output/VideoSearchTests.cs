using VQToken.Engine.Compression;
using VQToken.Engine.Core;
using VQToken.Engine.Execution;
using VQToken.Engine.Generation;
using VQToken.Engine.Models;
using VQToken.Engine.Output;
using VQToken.Engine.Runtime;
using VQToken.Engine.Scheduling;
using VQToken.Engine.Tests.Support;
using VQToken.Engine.Text;
using static TorchSharp.torch;

namespace VQToken.Engine.Tests.Output;

/// <summary>Yes/no scoring and library search on the tiny checkpoint: scores against a plain forward over the
/// whole prompt, batched against single requests, and a video whose codebook was built to push "Yes" up ranked first.</summary>
public class VideoSearchTests(EvidenceModelFixture fx) : IClassFixture<EvidenceModelFixture>
{
    private const int Frames = 2, Grid = 3, K = 4;
    private const string Question = "Is there a dog on the beach?";

    private YesNoPrompt Prompt => new(fx.Tiny.Tokenizer);

    [Fact]
    public void The_template_is_the_chat_prompt_with_the_yes_no_instruction_and_the_answer_ids_are_yes_and_no()
    {
        var prompt = Prompt;
        Assert.Equal(fx.Tiny.Template.BuildPrompt("Is there a dog? Answer yes or no."), prompt.Build("  Is there a dog?  "));
        Assert.EndsWith("<image>\nIs there a dog? Answer yes or no.<|im_end|>\n<|im_start|>assistant\n",
            ChatTemplate.Render(YesNoPrompt.UserText("Is there a dog?")));
        Assert.Equal(fx.Tiny.Tokenizer.EncodePlainText("Yes")[0], prompt.YesId);
        Assert.Equal(fx.Tiny.Tokenizer.EncodePlainText("No")[0], prompt.NoId);
        Assert.NotEqual(prompt.YesId, prompt.NoId);
        Assert.Throws<ArgumentException>(() => prompt.Build(" "));
    }

    [Fact]
    public async Task A_video_built_to_answer_yes_ranks_first_and_every_score_is_the_log_softmax_of_a_plain_forward()
    {
        var prompt = Prompt;
        var ids = prompt.Build(Question);
        var videos = Enumerable.Range(0, 5).Select(i => new SearchCandidate($"random{i}", Codebook(RandomRows(seed: 20 + i)))).ToList();
        var planted = new SearchCandidate("planted", Codebook(ClimbTowardsYes(ids, prompt, seed: 30)));
        videos.Insert(2, planted);
        var expected = videos.ToDictionary(v => v.VideoKey, v => PlainLogProbs(v.Encoding, ids, prompt));
        Assert.True(expected["planted"].Score > videos.Where(v => v != planted).Max(v => expected[v.VideoKey].Score) + 1,
            "the construction did not raise the planted video's score above the others");

        await using var engine = fx.Tiny.NewEngine();
        var progress = new List<SearchProgress>();
        var hits = await VideoSearch.RankAsync(engine, prompt, Question, videos, top: 3, new SyncProgress<SearchProgress>(progress));

        Assert.Equal("planted", hits[0].VideoKey);
        Assert.Equal(3, hits.Count);
        Assert.Equal(expected.OrderByDescending(e => e.Value.Score).Take(3).Select(e => e.Key), hits.Select(h => h.VideoKey));
        foreach (var hit in hits)
        {
            var (yes, no, score) = expected[hit.VideoKey];
            Assert.InRange(Math.Abs(hit.Score.LogProbYes - yes), 0, 1e-4);
            Assert.InRange(Math.Abs(hit.Score.LogProbNo - no), 0, 1e-4);
            Assert.InRange(Math.Abs(hit.Score.Score - score), 0, 1e-4);
            Assert.Equal(hit.Score.LogProbYes - hit.Score.LogProbNo, hit.Score.Score, 12);
            Assert.True(hit.Score.LogProbYes < 0 && hit.Score.LogProbNo < 0);
            Assert.Equal(ids.Length - 1 + K + 1, hit.Score.PromptTokens);
        }
        Assert.Equal(Enumerable.Range(1, videos.Count).Select(n => new SearchProgress(n, videos.Count)), progress);
    }

    [Fact]
    public async Task Search_with_evidence_points_at_the_planted_frame_and_leaves_every_score_unchanged()
    {
        const int planted = 2, frame = 1;
        var prompt = Prompt;
        var ids = prompt.Build(Question);
        int image = Array.IndexOf(ids, (int)LlavaOneVision.ImageTokenIndex);
        // A cluster whose key matches the scoring position's queries fills frame 1; the other clusters share frame 0.
        var codebook = RandomRows(seed: 90);
        fx.Matching(ids, image + planted, K + 1).Select(v => (float)v).ToArray().CopyTo(codebook, planted * fx.Dim);
        var others = new short[] { 0, 1, 3 };
        var indexMap = Enumerable.Range(0, Frames * Grid * Grid).Select(c => c / (Grid * Grid) == frame ? (short)planted : others[c % others.Length]).ToArray();
        var videos = Enumerable.Range(0, 3).Select(i => new SearchCandidate($"ev{i}", Codebook(RandomRows(seed: 91 + i)))).ToList();
        videos.Add(new SearchCandidate("ev-planted", Codebook(codebook, indexMap)));
        await using var engine = fx.Tiny.NewEngine();

        var plain = await VideoSearch.RankAsync(engine, prompt, Question, videos, top: videos.Count);
        var withEvidence = await VideoSearch.RankAsync(engine, prompt, Question, videos, top: videos.Count, evidence: true);

        Assert.All(plain, h => Assert.Null(h.Score.Evidence));
        Assert.Equal(plain.Select(h => h.VideoKey), withEvidence.Select(h => h.VideoKey));
        Assert.All(plain.Zip(withEvidence), p => Assert.InRange(Math.Abs(p.First.Score.Score - p.Second.Score.Score), 0, 1e-6));
        var hit = withEvidence.Single(h => h.VideoKey == "ev-planted").Score;
        Assert.Equal(frame, hit.Evidence!.Frames[0].Frame);
        var mass = hit.VisualAttention!.RowMass;
        Assert.Equal(planted, Enumerable.Range(0, K).MaxBy(r => mass[r]));
        Assert.Single(hit.VisualAttention.TokenShares);   // the one scoring position
        Assert.Equal(mass.Take(K).Sum(), hit.Evidence.Frames.Sum(f => f.Score), 9);
        // The same probe as an ask's: the first answer token of an ask of the same prompt is produced by that position.
        var ask = await engine.AskAsync(new AskRequest("ev-planted", videos[^1].Encoding, ids, SamplingOptions.Greedy(1), Evidence: true));
        Assert.All(mass.Zip(ask.VisualAttention!.RowMass), p => Assert.InRange(Math.Abs(p.First - p.Second), 0, 1e-6));
    }

    [Fact]
    public async Task Scores_prefilled_as_one_ragged_batch_equal_single_scoring_requests()
    {
        var prompt = Prompt;
        var questions = new[] { Question, "Does anyone jump into the water at the end?", "Is it night?" };
        var videos = Enumerable.Range(0, 4).Select(i => ($"batch{i}", Codebook(RandomRows(seed: 40 + i)))).ToList();
        var requests = videos.SelectMany(v => questions.Select(q => new ScoreRequest(v.Item1, v.Item2, prompt.Build(q), prompt.YesId, prompt.NoId))).ToList();

        var single = new List<ScoreResult>();
        await using (var engine = fx.Tiny.NewEngine())
            foreach (var request in requests) single.Add(await engine.ScoreAsync(request));
        Assert.All(single.Where((_, i) => i % questions.Length == 0), s => Assert.False(s.PrefixCacheHit));
        Assert.All(single.Where((_, i) => i % questions.Length != 0), s => Assert.True(s.PrefixCacheHit));   // later questions reuse the video's prefix

        // The same requests through the engine's scheduler and runner on one thread: with the prefixes cached, one step.
        using var metrics = new EngineMetrics(() => 0, () => 0, () => 0);
        using var runner = new ModelRunner(fx.Model, new EngineOptions(), metrics);
        var scheduler = new Scheduler(new StepBudget(MaxSequences: 16, MaxPrefillsPerStep: 16, PrefillChunkTokens: 512, MaxBatchFrames: 8), metrics);
        foreach (var (key, encoding) in videos) Run(scheduler, runner, [new ScoreWork(new ScoreRequest(key, encoding, prompt.Build("warm up?"), prompt.YesId, prompt.NoId), default)]);
        long calls = fx.Model.Language.ForwardCalls;
        var batch = requests.Select(r => new ScoreWork(r, default)).ToList();
        foreach (var work in batch) scheduler.Add(work);
        scheduler.Step(runner);

        Assert.Equal(0, scheduler.Count);
        Assert.Equal(1, fx.Model.Language.ForwardCalls - calls);   // twelve questions, one forward
        for (int i = 0; i < requests.Count; i++)
        {
            Assert.True(batch[i].Done.Task.IsCompletedSuccessfully);
            var batched = await batch[i].Done.Task;
            Assert.True(batched.PrefixCacheHit);
            Assert.InRange(Math.Abs(batched.Score - single[i].Score), 0, 1e-4);
            Assert.InRange(Math.Abs(batched.LogProbYes - single[i].LogProbYes), 0, 1e-4);
        }
        Assert.True(single.Select(s => Math.Round(s.Score, 3)).Distinct().Count() > 1, "every request scored the same");
    }

    [Fact]
    public async Task An_ask_sharing_steps_with_a_search_answers_as_it_does_alone_and_the_scores_do_not_move()
    {
        var prompt = Prompt;
        var videos = Enumerable.Range(0, 16).Select(i => new SearchCandidate($"mixed{i}", Codebook(RandomRows(seed: 80 + i)))).ToList();
        var ask = new AskRequest("mixed3", videos[3].Encoding, fx.Tiny.Template.BuildPrompt("What happens next?"),
            SamplingOptions.Greedy(6), UsePrefixCache: false);
        await using var engine = fx.Tiny.NewEngine();
        var alone = await engine.AskAsync(ask);
        var ranked = await VideoSearch.RankAsync(engine, prompt, Question, videos, top: videos.Count);

        Task<AskResult>? during = null;
        var progress = new List<SearchProgress>();
        var mixed = await VideoSearch.RankAsync(engine, prompt, Question, videos, top: videos.Count,
            new SyncProgress<SearchProgress>(progress, p => { if (p.Scored == 1) during = engine.AskAsync(ask); }), window: 4);

        Assert.Equal(alone.Tokens, (await during!).Tokens);
        Assert.Equal(ranked.Select(h => h.VideoKey), mixed.Select(h => h.VideoKey));
        Assert.All(ranked.Zip(mixed), p => Assert.InRange(Math.Abs(p.First.Score.Score - p.Second.Score.Score), 0, 1e-4));
        Assert.All(mixed, h => Assert.True(h.Score.PrefixCacheHit));   // the first search left every prefix cached
    }

    [Fact]
    public async Task A_cancelled_or_late_search_stops_and_bad_answer_ids_fail_alone()
    {
        var prompt = Prompt;
        var videos = Enumerable.Range(0, 12).Select(i => new SearchCandidate($"cancel{i}", Codebook(RandomRows(seed: 60 + i)))).ToList();
        await using var engine = fx.Tiny.NewEngine();
        using var cancel = new CancellationTokenSource();
        var progress = new List<SearchProgress>();
        var search = VideoSearch.RankAsync(engine, prompt, Question, videos, top: 5,
            new SyncProgress<SearchProgress>(progress, p => { if (p.Scored == 2) cancel.Cancel(); }), window: 2, cancellationToken: cancel.Token);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => search);
        Assert.InRange(progress.Count, 2, 3);
        await Assert.ThrowsAsync<TimeoutException>(() => VideoSearch.RankAsync(engine, prompt, Question, videos, top: 5, deadline: TimeSpan.Zero));

        var ids = prompt.Build(Question);
        await Assert.ThrowsAsync<ArgumentException>(() => engine.ScoreAsync(new ScoreRequest("bad", videos[0].Encoding, ids, prompt.YesId, 1_000_000)));
        var good = await engine.ScoreAsync(new ScoreRequest("good", videos[0].Encoding, ids, prompt.YesId, prompt.NoId));
        Assert.True(double.IsFinite(good.Score));
    }

    private static void Run(Scheduler scheduler, ModelRunner runner, IEnumerable<ScheduledAsk> asks)
    {
        foreach (var ask in asks) scheduler.Add(ask);
        while (scheduler.Count > 0) scheduler.Step(runner);
    }

    /// <summary>log p(yes), log p(no) and their difference at the last prompt position of one plain forward over the
    /// whole prompt (visual rows spliced in), log-softmax over the full vocabulary.</summary>
    private (double Yes, double No, double Score) PlainLogProbs(VideoEncoding encoding, int[] prompt, YesNoPrompt yesNo)
    {
        using var scope = NewDisposeScope();
        var c = encoding.Compressed!;
        var visual = fx.Model.VQTokens(c.IndexMapTensor(), c.CodebookTensor(), TokenPath.Codebook);
        var embeds = fx.Model.PromptEmbeddings(prompt.Select(i => (long)i).ToArray(), visual);
        using var cache = fx.Model.Language.NewCache(embeds.shape[1]);
        var logProbs = fx.Model.Language.Forward(embeds, cache, lastOnly: true)[0, 0].to_type(ScalarType.Float64).log_softmax(0);
        double yes = logProbs[yesNo.YesId].item<double>(), no = logProbs[yesNo.NoId].item<double>();
        return (yes, no, yes - no);
    }

    /// <summary>A codebook climbed against the checkpoint's weights: random steps on its rows, kept when the plain
    /// forward's log p(yes) − log p(no) rises (a (1+1) evolution strategy), so its tokens drive the "Yes" logit up.</summary>
    private float[] ClimbTowardsYes(int[] prompt, YesNoPrompt yesNo, int seed)
    {
        var random = new Random(seed);
        var best = RandomRows(seed);
        double bestScore = PlainLogProbs(Codebook(best), prompt, yesNo).Score, sigma = 0.5;
        for (int step = 0; step < 300; step++)
        {
            var candidate = best.Select(v => v + (float)(sigma * Gaussian(random))).ToArray();
            double score = PlainLogProbs(Codebook(candidate), prompt, yesNo).Score;
            if (score > bestScore) (best, bestScore, sigma) = (candidate, score, sigma * 1.5);
            else sigma *= 0.93;
        }
        return best;
    }

    private static double Gaussian(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private VideoEncoding Codebook(float[] codebook, short[]? indexMap = null) => new()
    {
        Mode = CompressionMode.VQTokenFixed, Dim = fx.Dim, Frames = Frames, OriginalTokens = Frames * Grid * Grid, VisualTokens = K + 1,
        Compressed = CompressedVideo.FromArrays(Frames, Grid, K, fx.Dim, codebook,
            indexMap ?? Enumerable.Range(0, Frames * Grid * Grid).Select(c => (short)(c % K)).ToArray(), CompressionSettings.Fixed(Frames, K)),
    };

    private float[] RandomRows(int seed) => Managed.Uniform(new Random(seed), K * fx.Dim);
}

/// <summary>Records progress synchronously (Progress&lt;T&gt; posts to the thread pool, out of order).</summary>
internal sealed class SyncProgress<T>(List<T> into, Action<T>? then = null) : IProgress<T>
{
    public void Report(T value)
    {
        lock (into) into.Add(value);
        then?.Invoke(value);
    }
}
