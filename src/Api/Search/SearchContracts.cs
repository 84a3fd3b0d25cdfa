using System.ComponentModel;
using System.Text.Json.Serialization;

namespace VQToken.Api.Search;

/// <summary>Body of <c>POST /videos/search</c>. Unknown members are refused (400), so a misspelt filter never
/// widens the search silently.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record SearchRequestBody
{
    /// <summary>A yes/no question, asked of every ready video (wrapped in the fixed template: "{question} Answer yes or no.").</summary>
    [DefaultValue("Is there a dog on a beach?")] public string? Question { get; init; }
    /// <summary>How many videos to return, best first (default 10, at most Search:MaxTop).</summary>
    [DefaultValue(10)] public int? Top { get; init; }
    /// <summary>Only these videos (at most Search:MaxVideos); an id that is not yours is 404 like an unknown one.</summary>
    public IReadOnlyList<string>? Ids { get; init; }
    /// <summary>Only videos created after this instant (ISO 8601, e.g. 2026-01-31T12:00:00Z).</summary>
    public string? CreatedAfter { get; init; }
    /// <summary>Stream progress and the result as Server-Sent Events (same as Accept: text/event-stream).</summary>
    public bool? Stream { get; init; }
    /// <summary>Also return each result's best frames: where the scoring position's attention fell (docs/SEARCH.md).</summary>
    [DefaultValue(false)] public bool? Evidence { get; init; }
}

/// <summary>The ranked videos. <c>scored</c> videos were scored; <c>skipped</c> were ready but had no usable cached
/// encoding (re-enqueued or failed meanwhile); <c>truncated</c>: more ready videos matched than Search:MaxVideos,
/// and only the newest of them were scored.</summary>
public sealed record SearchResponse(string Question, IReadOnlyList<SearchResult> Results, int Scored, int Skipped, bool Truncated, double TotalMs);

/// <summary>One ranked video. <c>score</c> = <c>logProbYes</c> − <c>logProbNo</c> (natural logs) at the answer's first
/// token: above 0 the model leans yes. <c>thumbnail</c> is the video's cluster picture (null in full mode). <c>frames</c>,
/// only when the search asked for evidence: the best sampled frames (index, time, score), top first.</summary>
public sealed record SearchResult(
    int Rank, string Id, string Name, double Score, double LogProbYes, double LogProbNo, DateTimeOffset CreatedAt, string? Thumbnail,
    int VisualTokens, string PrefixCache,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<Ask.EvidenceFrame>? Frames = null)
{
    /// <summary>Frames a result lists with evidence: the best few, not every sampled frame.</summary>
    public const int EvidenceFrames = 3;
}

/// <summary>Streaming: videos scored so far of the total.</summary>
public sealed record SearchProgressEvent(int Scored, int Total);
