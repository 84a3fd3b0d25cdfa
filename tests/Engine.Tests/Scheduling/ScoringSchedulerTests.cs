using VQToken.Engine.Scheduling;

namespace VQToken.Engine.Tests.Scheduling;

/// <summary>Scoring requests in the scheduler: asks that end at their first answer position, sharing the
/// admission and prefill budgets of the step with asks, never decoding, cancelled like asks.</summary>
public sealed class ScoringSchedulerTests
{
    private static TestAsk Score(string key, int questionTokens = 20) => new(key, questionTokens, maxNewTokens: 1) { ScoresOnly = true };

    [Fact]
    public void Scores_share_a_prefill_step_with_a_new_ask_while_a_running_ask_decodes_every_step()
    {
        var scheduler = new Scheduler(new StepBudget(MaxSequences: 16, MaxPrefillsPerStep: 8, PrefillChunkTokens: 64, MaxBatchFrames: 8));
        var runner = new FakeRunner();
        var running = new TestAsk("running", 2, maxNewTokens: 40);
        scheduler.Add(running);
        scheduler.Step(runner);
        Assert.Equal(1, scheduler.Running);

        var scores = Enumerable.Range(0, 6).Select(i => Score($"video{i}")).ToList();
        foreach (var score in scores) runner.CachedPrefixes.Add(score.PrefixKey);   // warm prefix caches: only the questions run
        runner.CachedPrefixes.Add("late");
        foreach (var score in scores) scheduler.Add(score);
        var late = new TestAsk("late", 3, maxNewTokens: 3);
        scheduler.Add(late);
        int decodesBefore = runner.DecodeBatches.Count, steps = 0;
        while (scores.Any(s => s.Outcome == "running")) { scheduler.Step(runner); steps++; }

        // One step's 64 positions hold three 20-position questions and the late ask's 3: it waited for no whole search.
        Assert.Equal("questions 20,20,20,3", runner.Log[^2]);
        Assert.Equal("questions 20,20,20", runner.Log[^1]);
        Assert.Equal(2, steps);
        Assert.Equal(steps, runner.DecodeBatches.Count - decodesBefore);   // the running ask decoded in every step
        Assert.All(runner.PrefillPositions, p => Assert.True(p <= 64, $"{p} positions in one step"));
        Assert.All(scores, s => Assert.Equal("completed", s.Outcome));
        Assert.All(scores, s => Assert.Empty(s.Tokens));                    // a score emits no token
        Assert.All(scores, s => Assert.DoesNotContain(s, runner.Held));     // and leaves at once
        Assert.Equal(2, runner.DecodeBatches.Max());                        // only the two asks ever decode
        while (scheduler.Count > 0) scheduler.Step(runner);
        Assert.Equal([100L, 101, 102], late.Tokens);
        Assert.Empty(runner.Held);
    }

    [Fact]
    public void Scores_beyond_the_batch_wait_for_slots_like_asks()
    {
        var scheduler = new Scheduler(new StepBudget(MaxSequences: 2, MaxPrefillsPerStep: 8, PrefillChunkTokens: 64, MaxBatchFrames: 8));
        var runner = new FakeRunner();
        var scores = Enumerable.Range(0, 5).Select(i => Score($"v{i}", questionTokens: 4)).ToList();
        foreach (var score in scores) scheduler.Add(score);

        scheduler.Step(runner);
        Assert.Equal(3, scheduler.Waiting);
        Assert.Equal(2, scores.Count(s => s.Outcome == "completed"));
        while (scheduler.Count > 0) scheduler.Step(runner);
        Assert.All(scores, s => Assert.Equal("completed", s.Outcome));
        Assert.Empty(runner.DecodeBatches);
    }

    [Fact]
    public void A_cancelled_score_leaves_at_the_next_step_and_releases_its_tensors()
    {
        var scheduler = new Scheduler(new StepBudget(MaxSequences: 16, MaxPrefillsPerStep: 8, PrefillChunkTokens: 16, MaxBatchFrames: 8));
        var runner = new FakeRunner();
        using var cancel = new CancellationTokenSource();
        var score = new TestAsk("long", 100, maxNewTokens: 1) { ScoresOnly = true, Cancellation = cancel.Token };
        scheduler.Add(score);
        scheduler.Step(runner);
        Assert.Contains(score, runner.Held);

        cancel.Cancel();
        scheduler.Step(runner);
        Assert.Equal("cancelled", score.Outcome);
        Assert.Empty(runner.Held);
        Assert.Equal(0, scheduler.Count);
    }
}
