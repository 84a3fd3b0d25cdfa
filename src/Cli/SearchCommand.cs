using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using VQToken.Api.Cache;
using VQToken.Api.Search;
using VQToken.Api.ServiceDefaults;
using VQToken.Api.Storage;
using VQToken.Api.Videos;
using VQToken.Engine.Output;
using VQToken.Engine.Runtime;
using VQToken.Engine.Text;

namespace VQToken.Cli;

/// <summary>`search`: <c>POST /videos/search</c> over a stopped (or running) service's file data directory: the same
/// selection of one owner's ready videos, the same template and score, the cached encodings as they are (a video
/// without one for this checkpoint is skipped, not recomputed). Prints the response JSON.</summary>
public sealed class SearchCommand : CliCommand
{
    private readonly Argument<string> _question = new("question") { Description = "a yes/no question, e.g. \"Is there a dog on a beach?\"" };
    private readonly Option<string> _data = CliOptions.Text("--data", "the service's data directory (Storage:Path of a file store)", "DIR", required: true);
    private readonly Option<string> _checkpoint = CliOptions.Text("--checkpoint", "the service's model checkpoint (default: DIR/demo-model when the data directory has one)", "DIR");
    private readonly Option<string> _apiKey = CliOptions.Text("--api-key", "search the videos of this API key (default: those uploaded with no keys configured)", "KEY");
    private readonly Option<string> _owner = CliOptions.Text("--owner", "search the videos of this owner id (as stored: anonymous or key-…)", "ID");
    private readonly Option<int> _top = CliOptions.Int("--top", "videos to print, best first", 10, min: 1);
    private readonly Option<int> _maxVideos = CliOptions.Int("--max-videos", "videos scored at most (the newest)", new SearchOptions().MaxVideos, min: 1);
    private readonly Option<string[]> _ids = new("--id") { Description = "only this video (repeatable)", HelpName = "ID" };
    private readonly Option<string> _createdAfter = CliOptions.Text("--created-after", "only videos created after this instant (ISO 8601)", "TIME");
    private readonly Option<bool> _evidence = CliOptions.Flag("--evidence", "also list each result's best frames (where the scoring position looked), as the route's \"evidence\": true");
    private readonly Option<string> _device = CliOptions.Device("cpu");
    private readonly Option<int> _threads = CliOptions.Int("--threads", "libtorch threads (0: one per core)", 0, min: 0);

    public SearchCommand() : base("search",
        "Ask the whole library: ranks one owner's ready videos in a service data directory for a yes/no question (as POST /videos/search); prints the JSON response.")
    {
        Add(_question);
        foreach (var option in new Option[] { _data, _checkpoint, _apiKey, _owner, _top, _maxVideos, _ids, _createdAfter, _evidence, _device, _threads }) Add(option);
        Validators.Add(r =>
        {
            if (r.GetResult(_apiKey) is { Implicit: false } && r.GetResult(_owner) is { Implicit: false }) r.AddError("--api-key and --owner exclude each other");
            if (r.GetValue(_createdAfter) is { } text && !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _))
                r.AddError($"--created-after: '{text}' is not an ISO 8601 date and time");
            if (r.GetValue(_ids)?.FirstOrDefault(id => !VideoId.IsValid(id)) is { } bad) r.AddError($"--id: '{bad}' is not a video id");
        });
    }

    protected override int Execute(ParseResult parsed)
    {
        var data = Path.GetFullPath(parsed.GetRequiredValue(_data));
        var records = Path.Combine(data, StorageServiceCollectionExtensions.VideosFolder);
        var checkpoint = parsed.GetValue(_checkpoint) ?? Path.Combine(data, "demo-model");
        if (!Directory.Exists(records))
        {
            Console.Error.WriteLine($"search: {data} is not a service data directory (it has no {StorageServiceCollectionExtensions.VideosFolder}/ folder)");
            return VQTokenCli.UsageError;
        }
        if (!File.Exists(Path.Combine(checkpoint, "config.json")))
        {
            Console.Error.WriteLine($"search: no checkpoint in {checkpoint}; give the service's model with --checkpoint DIR");
            return VQTokenCli.UsageError;
        }
        try
        {
            var response = CliProgress.RunAsync(progress => SearchAsync(parsed, data, checkpoint, progress)).GetAwaiter().GetResult();
            Console.WriteLine(JsonSerializer.Serialize(response, new JsonSerializerOptions(JsonSerializerOptions.Web) { WriteIndented = true }));
            return 0;
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"search: {e.Message}");
            return 1;
        }
    }

    private Task<SearchResponse> SearchAsync(ParseResult parsed, string data, string checkpoint, CliProgress progress)
    {
        string owner = parsed.GetValue(_apiKey) is { } key ? Caller.OwnerOf(key) : parsed.GetValue(_owner) ?? Caller.Anonymous;
        var question = YesNoPrompt.UserText(parsed.GetRequiredValue(_question))[..^YesNoPrompt.Instruction.Length];
        var after = parsed.GetValue(_createdAfter) is { } text ? DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal) : (DateTimeOffset?)null;
        var ids = parsed.GetValue(_ids) is { Length: > 0 } given ? given.Distinct(StringComparer.Ordinal).ToList() : null;
        return SearchAsync(data, checkpoint, owner, new SearchQuery(question, parsed.GetValue(_top), ids, after, parsed.GetValue(_evidence)), parsed.GetValue(_maxVideos),
            new EngineOptions { Device = parsed.GetRequiredValue(_device), Threads = parsed.GetValue(_threads) }, progress);
    }

    /// <summary>The search itself: <paramref name="owner"/>'s videos in the data directory, scored with a local engine.</summary>
    public static async Task<SearchResponse> SearchAsync(string data, string checkpoint, string owner, SearchQuery query, int maxVideos,
        EngineOptions engineOptions, CliProgress progress)
    {
        var clock = Stopwatch.StartNew();
        var question = query.Question;
        var videos = new FileVideoStore(Path.Combine(data, StorageServiceCollectionExtensions.VideosFolder), TimeProvider.System, NullLogger<FileVideoStore>.Instance);
        var cache = new FileCompressedCache(Path.Combine(data, StorageServiceCollectionExtensions.CacheFolder), TimeProvider.System);
        var (records, truncated, missing) = await LibrarySearch.SelectAsync(videos, owner, query, maxVideos, CancellationToken.None);
        if (missing is not null) throw new ArgumentException($"no video '{missing}' of owner {owner}");
        string fingerprint = ModelFingerprint.FromCheckpointDirectory(checkpoint);
        var library = new List<(VideoRecord Record, SearchCandidate Candidate)>();
        foreach (var record in records)
        {
            var lookup = await cache.GetAsync(record.Id, fingerprint);
            if (lookup.Status == CacheLookupStatus.Hit) library.Add((record, new SearchCandidate(record.Id, lookup.Entry!.Encoding)));
        }
        int skipped = records.Count - library.Count;
        progress.Log($"search: {library.Count} ready videos of owner {owner} to score ({skipped} without a cached encoding for this checkpoint)");

        await using var engine = new InferenceEngine(checkpoint, engineOptions);
        await engine.Ready;
        var bar = progress.AddBar("scoring", Math.Max(1, library.Count));
        var prompt = new YesNoPrompt(QwenTokenizer.Load(checkpoint));
        var hits = await VideoSearch.RankAsync(engine, prompt, question, library.Select(v => v.Candidate).ToList(), query.Top,
            new Progress<SearchProgress>(p => bar.Set(p.Scored)), evidence: query.Evidence);
        bar.Complete();
        var byId = library.ToDictionary(v => v.Record.Id, v => v.Record, StringComparer.Ordinal);
        return new SearchResponse(question, LibrarySearch.Results(hits, id => byId[id]), library.Count, skipped, truncated,
            Math.Round(clock.Elapsed.TotalMilliseconds, 1));
    }
}
