using VQToken.Engine.Runtime;
using VQToken.Engine.Text;

namespace VQToken.Engine.Output;

/// <summary>A video to score: its key (the prefix cache's) and its encoding.</summary>
public sealed record SearchCandidate(string VideoKey, VideoEncoding Encoding);

/// <summary>One scored video.</summary>
public sealed record SearchHit(string VideoKey, ScoreResult Score);

/// <summary>Videos scored so far of the total.</summary>
public readonly record struct SearchProgress(int Scored, int Total);

/// <summary>Library search: one yes/no question scored over many videos through the engine, ranked by
/// log p(yes) − log p(no). The scoring requests are kept a window at a time in the engine, so they are
/// prefilled together as one ragged batch while asks of other callers still find room in every step.</summary>
public static class VideoSearch
{
    /// <summary>Scoring requests a search keeps in the engine at once.</summary>
    public const int DefaultWindow = 8;

    /// <summary>Scores every candidate for <paramref name="question"/> (in <see cref="YesNoPrompt"/>'s template) and
    /// returns the <paramref name="top"/> best, highest score first (ties by key). Progress is reported after each
    /// video; past <paramref name="deadline"/> it throws <see cref="TimeoutException"/>. With <paramref name="evidence"/> each
    /// hit's score also carries where its scoring position looked (<see cref="ScoreResult.Evidence"/>).</summary>
    public static async Task<IReadOnlyList<SearchHit>> RankAsync(InferenceEngine engine, YesNoPrompt prompt, string question,
        IReadOnlyList<SearchCandidate> videos, int top, IProgress<SearchProgress>? progress = null, TimeSpan? deadline = null,
        int window = DefaultWindow, CancellationToken cancellationToken = default, bool evidence = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        var ids = prompt.Build(question);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (deadline is { } limit) stop.CancelAfter(limit);
        var hits = new List<SearchHit>(videos.Count);
        var pending = new List<Task<SearchHit>>();
        int next = 0;
        try
        {
            while (hits.Count < videos.Count)
            {
                while (pending.Count < window && next < videos.Count)
                    pending.Add(ScoreOneAsync(engine, videos[next++], ids, prompt, evidence, stop.Token));
                var done = await Task.WhenAny(pending).ConfigureAwait(false);
                pending.Remove(done);
                hits.Add(await done.ConfigureAwait(false));
                progress?.Report(new SearchProgress(hits.Count, videos.Count));
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && deadline is not null)
        {
            throw new TimeoutException($"the search did not finish within {deadline.Value.TotalSeconds:0.###} s ({hits.Count} of {videos.Count} videos scored)");
        }
        finally
        {
            stop.Cancel();   // the rest of the window leaves the engine at its next step
            foreach (var left in pending) _ = left.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
        return hits.OrderByDescending(h => h.Score.Score).ThenBy(h => h.VideoKey, StringComparer.Ordinal).Take(top).ToList();
    }

    /// <summary>One scoring request; a full engine queue is waited out rather than failing the whole search.</summary>
    private static async Task<SearchHit> ScoreOneAsync(InferenceEngine engine, SearchCandidate video, int[] ids, YesNoPrompt prompt, bool evidence,
        CancellationToken cancellationToken)
    {
        var request = new ScoreRequest(video.VideoKey, video.Encoding, ids, prompt.YesId, prompt.NoId, Evidence: evidence);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                return new SearchHit(video.VideoKey, await engine.ScoreAsync(request, cancellationToken).ConfigureAwait(false));
            }
            catch (EngineOverloadedException)
            {
                await Task.Delay(OverloadPause, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static readonly TimeSpan OverloadPause = TimeSpan.FromMilliseconds(50);
}
