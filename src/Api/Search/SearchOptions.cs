using System.ComponentModel.DataAnnotations;

namespace VQToken.Api.Search;

/// <summary>Bounds of <c>POST /videos/search</c> (section <c>Search</c>): one request never scores more than
/// <see cref="MaxVideos"/> videos nor runs past <see cref="DeadlineSeconds"/>.</summary>
public sealed class SearchOptions
{
    public const string Section = "Search";
    /// <summary>Videos one search scores at most (the newest ready ones when the library holds more).</summary>
    [Range(1, 100_000)] public int MaxVideos { get; set; } = 1000;
    /// <summary>Largest <c>top</c> accepted.</summary>
    [Range(1, 10_000)] public int MaxTop { get; set; } = 100;
    /// <summary>Deadline of one search, from the first scoring request to the last.</summary>
    [Range(1, 86_400)] public double DeadlineSeconds { get; set; } = 120;
    /// <summary>Scoring requests one search keeps in the engine at once: asks of other callers wait behind at most these.</summary>
    [Range(1, 256)] public int Window { get; set; } = 8;
}
