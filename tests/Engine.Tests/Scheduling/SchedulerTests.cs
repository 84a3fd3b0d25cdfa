using System.Reflection;
using VQToken.Engine.Generation;
using VQToken.Engine.Runtime;
using VQToken.Engine.Scheduling;

namespace VQToken.Engine.Tests.Scheduling;

/// <summary>The scheduler's decisions (admission, budgets, continuous batching, stops, cancellation,
/// prefix sharing, video work) against a fake runner: no model, no TorchSharp.</summary>
public sealed class SchedulerTests
{
    private static Scheduler NewScheduler(int sequences = 16, int prefillsPerStep = 8, int chunk = 64, int frames = 8) =>
        new(new StepBudget(sequences, prefillsPerStep, chunk, frames));

    private static int RunUntilDone(Scheduler scheduler, FakeRunner runner, int maxSteps = 1000)
    {
        int steps = 0;
        while (scheduler.Count > 0 && steps < maxSteps)
        {
            scheduler.Step(runner);
            steps++;
        }
        Assert.Equal(0, scheduler.Count);
        return steps;
    }

    [Fact]
    public void Asks_beyond_the_batch_wait_and_are_admitted_as_sequences_finish()
    {
        var scheduler = NewScheduler(sequences: 2);
        var runner = new FakeRunner();
        var asks = Enumerable.Range(0, 3).Select(i => new TestAsk($"v{i}", 3, maxNewTokens: 3)).ToList();
        foreach (var ask in asks) scheduler.Add(ask);

        scheduler.Step(runner);
        Assert.Equal(1, scheduler.Waiting);
        Assert.Equal(2, scheduler.Running);
        RunUntilDone(scheduler, runner);
        Assert.All(asks, a => Assert.Equal("completed", a.Outcome));
        Assert.All(asks, a => Assert.Equal([100L, 101, 102], a.Tokens));
        Assert.True(runner.DecodeBatches.Max() <= 2);
        Assert.Empty(runner.Held);   // every ask's tensors were released
    }

    [Fact]
    public void A_stop_id_ends_an_ask_with_stop_and_the_token_limit_with_length()
    {
        var scheduler = NewScheduler();
        var runner = new FakeRunner { NextToken = (a, i) => a.PrefixKey == "stops" && i == 2 ? 7 : 100 + i };
        var stops = new TestAsk("stops", 3, maxNewTokens: 10, stopIds: new HashSet<long> { 7 });
        var limited = new TestAsk("limited", 3, maxNewTokens: 4, stopIds: new HashSet<long> { 7 });
        scheduler.Add(stops);
        scheduler.Add(limited);
        RunUntilDone(scheduler, runner);

        Assert.Equal([100L, 101], stops.Tokens);            // the stop id is not emitted
        Assert.Equal(FinishReason.Stop, stops.FinishReason);
        Assert.Equal([100L, 101, 102, 103], limited.Tokens);
        Assert.Equal(FinishReason.Length, limited.FinishReason);
    }

    [Fact]
    public void A_finish_signal_ends_an_ask_as_finished_after_the_token_it_was_raised_on_or_at_the_next_step()
    {
        var scheduler = NewScheduler();
        var runner = new FakeRunner();
        var raisedOnToken = new FinishSignal();
        var onToken = new TestAsk("callback", 3, maxNewTokens: 10, onToken: t => { if (t == 102) raisedOnToken.Raise(); }) { Finish = raisedOnToken };
        var raisedOutside = new FinishSignal();
        var outside = new TestAsk("outside", 3, maxNewTokens: 10) { Finish = raisedOutside };
        var plain = new TestAsk("plain", 3, maxNewTokens: 6);
        foreach (var ask in new[] { onToken, outside, plain }) scheduler.Add(ask);
        scheduler.Step(runner);
        scheduler.Step(runner);
        var produced = outside.Tokens.ToList();
        Assert.NotEmpty(produced);

        raisedOutside.Raise();
        RunUntilDone(scheduler, runner);

        Assert.Equal([100L, 101, 102], onToken.Tokens);      // ends with the token it was raised on
        Assert.Equal(produced, outside.Tokens);             // ends with what it had, at the next step
        Assert.All(new[] { onToken, outside }, a => Assert.Equal(FinishReason.Stop, a.FinishReason));
        Assert.All(new[] { onToken, outside, plain }, a => Assert.Equal("completed", a.Outcome));   // finished, not cancelled
        Assert.Equal(6, plain.Tokens.Count);
        Assert.Equal(FinishReason.Length, plain.FinishReason);
        Assert.Empty(runner.Held);
    }

    [Fact]
    public void A_long_prompt_is_prefilled_in_budgeted_chunks_while_a_running_ask_keeps_decoding()
    {
        var scheduler = NewScheduler(chunk: 64);
        var runner = new FakeRunner();
        var running = new TestAsk("short", 2, maxNewTokens: 50);
        scheduler.Add(running);
        scheduler.Step(runner);
        Assert.Equal(1, scheduler.Running);

        var longAsk = new TestAsk("long", 300, maxNewTokens: 2, visualTokens: 100);
        scheduler.Add(longAsk);
        int decodesBefore = runner.DecodeBatches.Count, steps = 0;
        while (longAsk.Tokens.Count == 0) { scheduler.Step(runner); steps++; }

        Assert.All(runner.PrefillPositions, p => Assert.True(p <= 64, $"{p} positions in one step"));
        Assert.True(steps >= (300 + 102) / 64, $"prefill of 402 positions took {steps} steps");
        Assert.Equal(steps, runner.DecodeBatches.Count - decodesBefore);   // the running ask decoded every step
        RunUntilDone(scheduler, runner);
    }

    [Fact]
    public void At_most_MaxPrefillsPerStep_asks_start_prefill_in_one_step()
    {
        var scheduler = NewScheduler(prefillsPerStep: 2);
        var runner = new FakeRunner();
        for (int i = 0; i < 5; i++) scheduler.Add(new TestAsk($"v{i}", 1, maxNewTokens: 1000));
        scheduler.Step(runner);
        Assert.Equal(3, scheduler.Waiting);
        scheduler.Step(runner);
        Assert.Equal(1, scheduler.Waiting);
    }

    [Fact]
    public void A_cancelled_ask_leaves_at_the_next_step_and_is_released()
    {
        var scheduler = NewScheduler();
        var runner = new FakeRunner();
        using var cancel = new CancellationTokenSource();
        var ask = new TestAsk("v", 2, maxNewTokens: 1000) { Cancellation = cancel.Token };
        scheduler.Add(ask);
        scheduler.Step(runner);
        Assert.Contains(ask, runner.Held);

        cancel.Cancel();
        scheduler.Step(runner);
        Assert.Equal("cancelled", ask.Outcome);
        Assert.Equal(0, scheduler.Count);
        Assert.Empty(runner.Held);
    }

    [Fact]
    public void An_ask_with_the_prefix_another_is_computing_waits_and_then_hits_the_prefix_cache()
    {
        var scheduler = NewScheduler(chunk: 16);
        var runner = new FakeRunner();
        var first = new TestAsk("same", 2, visualTokens: 40);
        var second = new TestAsk("same", 3, visualTokens: 40);
        scheduler.Add(first);
        scheduler.Add(second);
        RunUntilDone(scheduler, runner);

        Assert.False(first.PrefixHit);
        Assert.True(second.PrefixHit);
        Assert.Equal(42, runner.PrefillPositions.Sum() - 2 - 3);   // the prefix (2 ids + 40 visual tokens) ran once
    }

    [Fact]
    public void A_runner_error_fails_only_that_request()
    {
        var scheduler = NewScheduler();
        var runner = new FakeRunner { Fault = r => r is ScheduledAsk { PrefixKey: "bad" } ? new ArgumentException("bad codebook") : null };
        var bad = new TestAsk("bad", 2);
        var good = new TestAsk("good", 2);
        scheduler.Add(bad);
        scheduler.Add(good);
        RunUntilDone(scheduler, runner);
        Assert.Equal("failed", bad.Outcome);
        Assert.IsType<ArgumentException>(bad.Error);
        Assert.Equal("completed", good.Outcome);
    }

    [Fact]
    public void An_ask_without_a_question_after_the_image_fails_at_admission()
    {
        var scheduler = NewScheduler();
        var ask = new TestAsk("v", 0);
        scheduler.Add(ask);
        scheduler.Step(new FakeRunner());
        Assert.Equal("failed", ask.Outcome);
        Assert.Equal(0, scheduler.Count);
    }

    [Fact]
    public void Frames_are_batched_across_videos_within_the_frame_budget_then_compressed_a_slice_per_step()
    {
        var scheduler = NewScheduler(frames: 4);
        var runner = new FakeRunner { SlicesPerVideo = 3 };
        var a = new TestEncode(6);
        var b = new TestEncode(3);
        scheduler.Add(a);
        scheduler.Add(b);
        RunUntilDone(scheduler, runner);

        Assert.Equal([4, 4, 1], runner.FrameBatches);   // a's 4; a's last 2 + b's first 2; b's last
        Assert.Equal(["encoding 4", "encoding 6", "compressed 6"], a.Stages);
        Assert.Equal("completed", a.Outcome);
        Assert.Equal("completed", b.Outcome);
        Assert.Empty(runner.Held);
    }

    [Fact]
    public void Scheduling_types_hold_no_TorchSharp_types()
    {
        var assembly = typeof(Scheduler).Assembly;
        var scheduling = assembly.GetTypes().Where(t => t.Namespace == typeof(Scheduler).Namespace).ToList();
        Assert.Contains(typeof(ScheduledAsk), scheduling);
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        var used = new List<(string Where, Type Type)>();
        foreach (var type in scheduling)
        {
            if (type.BaseType is { } baseType) used.Add(($"{type.Name} base", baseType));
            used.AddRange(type.GetInterfaces().Select(i => ($"{type.Name} implements", i)));
            used.AddRange(type.GetFields(all).Select(f => ($"{type.Name}.{f.Name}", f.FieldType)));
            used.AddRange(type.GetProperties(all).Select(p => ($"{type.Name}.{p.Name}", p.PropertyType)));
            foreach (var method in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
            {
                if (method is MethodInfo m) used.Add(($"{type.Name}.{m.Name} returns", m.ReturnType));
                used.AddRange(method.GetParameters().Select(p => ($"{type.Name}.{method.Name}({p.Name})", p.ParameterType)));
                used.AddRange(method.GetMethodBody()?.LocalVariables.Select(l => ($"{type.Name}.{method.Name} local", l.LocalType)) ?? []);
            }
        }
        var torch = used.Where(u => Flatten(u.Type).Any(t => t.Assembly.GetName().Name == "TorchSharp")).Select(u => u.Where).ToList();
        Assert.True(torch.Count == 0, "TorchSharp types in Scheduling: " + string.Join(", ", torch));
        Assert.True(used.Count > 50, $"only {used.Count} member types were checked");
    }

    private static IEnumerable<Type> Flatten(Type type)
    {
        yield return type;
        if (type.HasElementType) foreach (var t in Flatten(type.GetElementType()!)) yield return t;
        if (type.IsGenericType) foreach (var t in type.GetGenericArguments().SelectMany(Flatten)) yield return t;
    }
}
