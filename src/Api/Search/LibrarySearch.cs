using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using VQToken.Api.Ask;
using VQToken.Api.Inference;
using VQToken.Api.ServiceDefaults;
using VQToken.Api.Videos;
using VQToken.Engine.Output;
using VQToken.Engine.Text;

namespace VQToken.Api.Search;

/// <summary>A validated search; with <c>Evidence</c> each result's best frames are measured too (the scoring position's attention).</summary>
public sealed record SearchQuery(string Question, int Top, IReadOnlyList<string>? Ids, DateTimeOffset? CreatedAfter, bool Evidence = false);

/// <summary>The caller's ready videos a search scores, with their encodings.</summary>
public sealed record SearchLibrary(IReadOnlyList<(VideoRecord Record, SearchCandidate Candidate)> Videos, int Skipped, bool Truncated);

/// <summary>Library search for one owner: picks the owner's ready videos (filters, at most Search:MaxVideos, newest
/// first), gets their cached encodings as asks do, and ranks them through the engine's <see cref="VideoSearch"/>.</summary>
public sealed class LibrarySearch(IVideoStore videos, VideoAnswerer answerer, ModelHost model, IOptions<SearchOptions> options)
{
    private YesNoPrompt? _prompt;

    public SearchOptions Options => options.Value;

    /// <summary>The yes/no template over the loaded model's tokenizer.</summary>
    public YesNoPrompt Prompt => _prompt ??= new YesNoPrompt(answerer.Tokenizer);

    /// <summary>Validates the body; null and the errors by field when invalid.</summary>
    public (SearchQuery? Query, Dictionary<string, string[]> Errors) Validate(SearchRequestBody body)
    {
        var o = options.Value;
        var errors = new Dictionary<string, string[]>();
        var question = body.Question?.Trim();
        if (string.IsNullOrEmpty(question)) errors["question"] = ["question must not be empty"];
        else if (question.Length > answerer.Options.MaxQuestionChars)
            errors["question"] = [$"question must be at most {answerer.Options.MaxQuestionChars} characters (Ask:MaxQuestionChars)"];
        else if (model.Tokenizer is not null && Prompt.Build(question).Length - 1 is var tokens && tokens > answerer.Options.MaxQuestionTokens)
            errors["question"] = [$"the prompt is {tokens} tokens; at most {answerer.Options.MaxQuestionTokens} are accepted (Ask:MaxQuestionTokens)"];
        int top = body.Top ?? Math.Min(10, o.MaxTop);
        if (top < 1 || top > o.MaxTop) errors["top"] = [$"top must be between 1 and {o.MaxTop} (Search:MaxTop)"];
        List<string>? ids = null;
        if (body.Ids is { } given)
        {
            ids = given.Distinct(StringComparer.Ordinal).ToList();
            if (ids.Count == 0) errors["ids"] = ["ids must name at least one video when given"];
            else if (ids.Count > o.MaxVideos) errors["ids"] = [$"ids names {ids.Count} videos; a search scores at most {o.MaxVideos} (Search:MaxVideos)"];
            else if (ids.FindIndex(id => !VideoId.IsValid(id)) is var bad and >= 0) errors["ids"] = [$"ids[{bad}] ('{ids[bad]}') is not a video id"];
        }
        DateTimeOffset? after = null;
        if (body.CreatedAfter is { } text)
        {
            if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)) after = parsed;
            else errors["createdAfter"] = ["createdAfter must be an ISO 8601 date and time, e.g. 2026-01-31T12:00:00Z"];
        }
        return (errors.Count == 0 ? new SearchQuery(question!, top, ids, after, body.Evidence == true) : null, errors);
    }

    /// <summary>The owner's ready videos matching <paramref name="query"/> with their encodings, or a problem (404 for an
    /// id the owner cannot see, 503 before the model is loaded). Videos not ready are left out.</summary>
    public async Task<(SearchLibrary? Library, ProblemDetails? Problem)> CollectAsync(string owner, SearchQuery query, CancellationToken cancellationToken)
    {
        if (!model.IsReady) return (null, Problems.Unavailable($"the model is {model.Status}"));
        var (records, truncated, missing) = await SelectAsync(videos, owner, query, options.Value.MaxVideos, cancellationToken);
        if (missing is not null) return (null, Problems.VideoNotFound(missing));
        var chosen = new List<(VideoRecord, SearchCandidate)>(records.Count);
        int skipped = 0;
        foreach (var record in records)
        {
            var (encoding, _, _) = await answerer.EncodingOfReadyAsync(record, cancellationToken);
            if (encoding is null) skipped++;
            else chosen.Add((record, new SearchCandidate(record.Id, encoding)));
        }
        return (new SearchLibrary(chosen, skipped, truncated), null);
    }

    /// <summary>The records a search scores: the owner's ready videos among <see cref="SearchQuery.Ids"/> (the first id the
    /// owner cannot see comes back as missing), or else all of them created after the bound, the newest
    /// <paramref name="max"/> when more match (truncated).</summary>
    public static async Task<(List<VideoRecord> Records, bool Truncated, string? MissingId)> SelectAsync(
        IVideoStore videos, string owner, SearchQuery query, int max, CancellationToken cancellationToken)
    {
        var records = new List<VideoRecord>();
        if (query.Ids is { } ids)
        {
            foreach (var id in ids)
            {
                var record = await videos.GetOwnedAsync(owner, id, cancellationToken);
                if (record is null) return ([], false, id);
                if (record.Status == VideoStatus.Ready && Matches(record, query)) records.Add(record);
            }
            return (records, false, null);
        }
        string? after = null;
        while (true)
        {
            var page = await videos.ListAsync(new VideoQuery(owner, VideoStatus.Ready, VideoQuery.MaxLimit, after), cancellationToken);
            records.AddRange(page.Items.Where(r => Matches(r, query)));
            if (records.Count > max)
                return (records.OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id, StringComparer.Ordinal).Take(max).ToList(), true, null);
            // Newest first: once a page reaches the createdAfter bound, nothing later matches.
            if (page.Next is null || (query.CreatedAfter is { } bound && page.Items.Any(r => r.CreatedAt <= bound))) return (records, false, null);
            after = page.Next;
        }
    }

    private static bool Matches(VideoRecord record, SearchQuery query) => query.CreatedAfter is not { } after || record.CreatedAt > after;

    /// <summary>Scores every video of <paramref name="library"/> (Search:Window requests in the engine at a time, within
    /// Search:DeadlineSeconds) and returns the top ones.</summary>
    public async Task<SearchResponse> RankAsync(SearchLibrary library, SearchQuery query, IProgress<SearchProgress>? progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var o = options.Value;
        var hits = await VideoSearch.RankAsync(model.Engine, Prompt, query.Question, library.Videos.Select(v => v.Candidate).ToList(), query.Top,
            progress, TimeSpan.FromSeconds(o.DeadlineSeconds), o.Window, cancellationToken, query.Evidence);
        var byId = library.Videos.ToDictionary(v => v.Record.Id, v => v.Record, StringComparer.Ordinal);
        return new SearchResponse(query.Question, Results(hits, id => byId[id]), library.Videos.Count, library.Skipped, library.Truncated,
            Math.Round(clock.Elapsed.TotalMilliseconds, 1));
    }

    /// <summary>Ranked hits as the API shows them; a hit with evidence lists its best frames with the record's frame times.</summary>
    public static List<SearchResult> Results(IReadOnlyList<SearchHit> hits, Func<string, VideoRecord> record) =>
        hits.Select((hit, i) =>
        {
            var r = record(hit.VideoKey);
            var s = hit.Score;
            var frames = s.Evidence is { } e
                ? VideoAnswerer.Frames(e, r.FrameTimes is { } t && t.Count == e.Frames.Count ? t : null, SearchResult.EvidenceFrames)
                : null;
            return new SearchResult(i + 1, r.Id, r.Source.Location, s.Score, s.LogProbYes, s.LogProbNo, r.CreatedAt,
                r.Settings.Mode == CompressionMode.Full ? null : $"/videos/{r.Id}/clusters.png",
                s.VisualTokens, s.PrefixCacheHit ? "hit" : "miss", frames);
        }).ToList();
}
