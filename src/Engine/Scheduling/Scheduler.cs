using System.Diagnostics;
using System.Runtime.InteropServices;
using VQToken.Engine.Generation;
using VQToken.Engine.Runtime;

namespace VQToken.Engine.Scheduling;

/// <summary>Decides what each engine step runs (vLLM's scheduler): asks wait, are admitted into prefill
/// (prefix, then question, in chunks), then decode together; videos go through the vision tower a frame
/// batch at a time, then compress a slice at a time. It knows requests and budgets, never tensors: the
/// <see cref="IModelRunner"/> does the work. Engine-thread only.</summary>
public sealed partial class Scheduler(StepBudget budget, EngineMetrics? metrics = null)
{
    private readonly List<ScheduledAsk> _waiting = [], _prefilling = [], _running = [];
    private readonly List<ScheduledEncode> _encoding = [], _compressing = [];

    /// <summary>Requests taken and not finished.</summary>
    public int Count => _waiting.Count + _prefilling.Count + _running.Count + _encoding.Count + _compressing.Count;
    /// <summary>Asks in the decode batch.</summary>
    public int Running => _running.Count;
    public int Prefilling => _prefilling.Count;
    public int Waiting => _waiting.Count;

    /// <summary>Nothing can run until frames arrive: the only work is videos whose next frames are still being
    /// decoded. The engine then sleeps until a frame, a request or a cancellation wakes it (no busy loop).</summary>
    public bool WaitsForFrames => _waiting.Count + _prefilling.Count + _running.Count + _compressing.Count == 0 && _encoding.Count > 0
        && _encoding.All(e => !e.IsCancelled && e.FramesReady(1) == 0 && e.FrameSourceFailure is null);

    public void Add(ScheduledAsk ask)
    {
        ask.QueueMs = ask.Clock.Elapsed.TotalMilliseconds;
        _waiting.Add(ask);
    }

    public void Add(ScheduledEncode encode) => _encoding.Add(encode);

    /// <summary>One step: drop cancelled requests, admit asks, then one bounded piece of each kind of work
    /// (schedule → execute on <paramref name="runner"/> → update): a prefill chunk budget, one decode step
    /// for every running ask (continuous batching), one frame batch and one compression slice.</summary>
    public void Step(IModelRunner runner)
    {
        RemoveCancelled(runner);
        FinishSignalled(runner);
        Admit();
        var (prefixes, questions) = SchedulePrefill(runner);
        if (prefixes.Count + questions.Count > 0) Prefill(runner, prefixes, questions);
        if (_running.Count > 0) Decode(runner);
        if (_encoding.Count > 0) EncodeFrames(runner);
        if (_compressing.Count > 0) CompressSlice(runner);
    }

    /// <summary>Cancelled requests leave at once, freeing their slot and memory.</summary>
    private void RemoveCancelled(IModelRunner runner)
    {
        foreach (var request in _waiting.Concat<ScheduledRequest>(_prefilling).Concat(_running).Concat(_encoding).Concat(_compressing).Where(r => r.IsCancelled).ToList())
        {
            Remove(request);
            Release(runner, request);
            request.Cancel();
        }
    }

    /// <summary>Asks whose caller raised their finish signal outside a token callback end with what they have produced.</summary>
    private void FinishSignalled(IModelRunner runner)
    {
        foreach (var asks in (ReadOnlySpan<List<ScheduledAsk>>)[_waiting, _prefilling, _running])
            for (int i = asks.Count - 1; i >= 0; i--)
            {
                var ask = asks[i];
                if (ask.Finish?.IsRaised != true) continue;
                asks.RemoveAt(i);
                ask.FinishedEarly = true;
                Finish(runner, ask);
            }
    }

    /// <summary>Moves waiting asks into prefill: as many as the batch has room for, at most MaxPrefillsPerStep.</summary>
    private void Admit()
    {
        int admitted = 0;
        while (_waiting.Count > 0 && _running.Count + _prefilling.Count < budget.MaxSequences && admitted < budget.MaxPrefillsPerStep)
        {
            var ask = _waiting[0];
            _waiting.RemoveAt(0);
            admitted++;
            if (ask.QuestionIds.Length == 0)
            {
                ask.Fail(new ArgumentException("the prompt must continue after the image position"));
                continue;
            }
            ask.PrefillActivity = EngineMetrics.Activities.StartActivity("engine.prefill", ActivityKind.Internal, ask.Parent);
            ask.PrefillClock.Start();
            _prefilling.Add(ask);
        }
    }

    /// <summary>Up to PrefillChunkTokens prompt positions (at least one chunk) across the asks in prefill,
    /// taken in turn: each ask's prefix (unless the prefix cache has it), then its question, in chunks whose
    /// bounds depend on the ask alone, so an answer does not depend on what else was in the step. An ask
    /// whose prefix another ask is computing waits, and then finds it in the prefix cache.</summary>
    private (List<PrefixChunk> Prefixes, List<QuestionChunk> Questions) SchedulePrefill(IModelRunner runner)
    {
        int chunk = budget.PrefillChunkTokens, left = chunk, taken = 0;
        var prefixes = new List<PrefixChunk>();
        var questions = new List<QuestionChunk>();
        foreach (var ask in _prefilling.ToList())
        {
            if (left <= 0) break;
            int prefixDone = ask.PrefixDone;
            if (ask.PrefixPending)
            {
                if (!ask.PrefixResolved && !TryStart(runner, ask)) continue;
                if (ask.PrefixDone < ask.PrefixLength)
                {
                    int length = Math.Min(chunk, ask.PrefixLength - ask.PrefixDone);
                    if (taken > 0 && length > left) continue;
                    prefixes.Add(new PrefixChunk(ask, length));
                    (left, taken, prefixDone) = (left - length, taken + length, prefixDone + length);
                    if (prefixDone < ask.PrefixLength) continue;
                }
            }
            int piece = Math.Min(chunk, ask.QuestionIds.Length - ask.QuestionDone);
            if (taken > 0 && piece > left) continue;
            questions.Add(new QuestionChunk(ask, ask.QuestionDone, piece));
            (left, taken) = (left - piece, taken + piece);
        }
        return (prefixes, questions);
    }

    /// <summary>Looks the ask's prefix up; false while another ask in prefill computes the same prefix.</summary>
    private bool TryStart(IModelRunner runner, ScheduledAsk ask)
    {
        if (ask.UsePrefixCache && _prefilling.Any(o => o != ask && o.PrefixResolved && o.PrefixPending && o.PrefixKey == ask.PrefixKey && o.UsePrefixCache))
            return false;
        try
        {
            ask.PrefixLength = runner.StartAsk(ask);
            ask.PrefixResolved = true;
            ask.PrefixHit = ask.PrefixLength == 0;
            return true;
        }
        catch (Exception e) when (IsRequestError(e))
        {
            Drop(runner, ask, e);
            return false;
        }
    }

    private void Prefill(IModelRunner runner, List<PrefixChunk> prefixes, List<QuestionChunk> questions)
    {
        var served = prefixes.Select(p => p.Ask).Concat(questions.Select(q => q.Ask)).Distinct().ToList();
        foreach (var chunk in prefixes)
        {
            try
            {
                runner.PrefillPrefix(chunk);
                chunk.Ask.PrefixDone += chunk.Length;
            }
            catch (Exception e) when (IsRequestError(e))
            {
                Drop(runner, chunk.Ask, e);
                questions.RemoveAll(q => q.Ask == chunk.Ask);
            }
        }
        foreach (var ask in served.Where(_prefilling.Contains))   // asks served in this step go to the back of the line
        {
            _prefilling.Remove(ask);
            _prefilling.Add(ask);
        }
        if (questions.Count == 0) return;
        IReadOnlyList<long?> first;
        try
        {
            first = runner.PrefillQuestions(questions);
        }
        catch (Exception e) when (IsRequestError(e))
        {
            foreach (var q in questions) Drop(runner, q.Ask, e);
            return;
        }
        for (int i = 0; i < questions.Count; i++)
        {
            var ask = questions[i].Ask;
            ask.QuestionDone += questions[i].Count;
            if (!questions[i].Completes) continue;
            _prefilling.Remove(ask);
            ask.Next = first[i] ?? throw new InvalidOperationException("the runner sampled no token for a completed prompt");
            ask.PrefillMs = ask.PrefillClock.Elapsed.TotalMilliseconds;
            ask.FirstTokenMs = ask.Clock.Elapsed.TotalMilliseconds;
            ask.PrefillActivity?.Dispose();
            ask.PrefillActivity = null;
            metrics?.PrefillDuration.Record(ask.PrefillMs);
            if (ask.ScoresOnly)
            {
                Finish(runner, ask);
                continue;
            }
            metrics?.TimeToFirstToken.Record(ask.FirstTokenMs);
            ask.DecodeClock.Start();
            if (Emit(ask)) _running.Add(ask);
            else Finish(runner, ask);
        }
    }

    private void Decode(IModelRunner runner)
    {
        var batch = _running.ToList();
        var next = runner.Decode(batch);
        for (int i = 0; i < batch.Count; i++)
        {
            batch[i].Next = next[i];
            if (Emit(batch[i])) continue;
            _running.Remove(batch[i]);
            Finish(runner, batch[i]);
        }
    }

    /// <summary>Handles ask.Next: emits it, or reports false when the ask ends (a stop id, its token limit, or its
    /// finish signal raised while the token was handed over).</summary>
    private bool Emit(ScheduledAsk ask)
    {
        if (ask.StopIds.Contains(ask.Next)) return false;
        ask.Tokens.Add(ask.Next);
        metrics?.TokensGenerated.Add(1);
        ask.OnToken?.Invoke(ask.Next);
        if (ask.Finish?.IsRaised == true) ask.FinishedEarly = true;
        return !ask.FinishedEarly && ask.Tokens.Count < ask.MaxNewTokens;
    }

    private void Finish(IModelRunner runner, ScheduledAsk ask)
    {
        ask.FinishReason = ask.FinishedEarly || (ask.StopIds.Contains(ask.Next) && ask.Tokens.Count < ask.MaxNewTokens) ? FinishReason.Stop : FinishReason.Length;
        ask.DecodeClock.Stop();
        Release(runner, ask);
        ask.Complete();
    }

    /// <summary>Errors of one request (bad input, a device error on its tensors): it fails, the engine goes on.</summary>
    internal static bool IsRequestError(Exception e) => e is ArgumentException or InvalidOperationException or ExternalException;
}
