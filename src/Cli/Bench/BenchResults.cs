using VQToken.Engine.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace VQToken.Cli.Bench;

/// <summary>Everything one benchmark run measured: flat numeric keys (ratios, fractions and raw
/// timings), the machine, and the goals checked against the values.</summary>
public sealed class BenchResults
{
    /// <summary>All numeric results by bench.json key, in the order they were measured.</summary>
    public Dictionary<string, double> Values { get; } = [];
    public Dictionary<string, string> Machine { get; } = [];
    public List<BenchGoal> Goals { get; } = [];

    public double this[string key]
    {
        get => Values.TryGetValue(key, out var v) ? v : throw new KeyNotFoundException($"bench key '{key}' was not measured");
        set => Values[key] = value;
    }

    public void Goal(string key, string what, bool atLeast, double target) => Goals.Add(new BenchGoal(key, what, atLeast, target, this[key]));

    public JsonObject ToJson(BenchSettings settings)
    {
        var root = new JsonObject();
        foreach (var (key, value) in Values) root[key] = Math.Round(value, 6);
        root["machine"] = new JsonObject(Machine.Select(m => KeyValuePair.Create(m.Key, (JsonNode?)m.Value)));
        root["goals"] = new JsonArray(Goals.Select(g => (JsonNode)new JsonObject
        {
            ["key"] = g.Key, ["what"] = g.What, ["rule"] = g.Rule, ["value"] = Math.Round(g.Value, 6), ["met"] = g.Met,
        }).ToArray());
        root["settings"] = new JsonObject
        {
            ["checkpoint"] = settings.Size.ToString().ToLowerInvariant() + " random", ["frames"] = settings.Frames,
            ["prefill_frames"] = settings.PrefillFrames, ["k"] = settings.K, ["min_k"] = settings.MinK,
            ["tokens"] = settings.Tokens.WireName(), ["elbow"] = settings.Elbow.WireName(),
            ["answer_tokens"] = settings.AnswerTokens, ["repeats"] = settings.Repeats, ["concurrency"] = settings.Concurrency,
            ["threads"] = settings.EffectiveThreads, ["question"] = settings.Question, ["smoke"] = settings.Smoke,
        };
        return root;
    }

    /// <summary>Reads a bench.json back (to re-render the docs without measuring again).</summary>
    public static BenchResults FromJson(JsonObject root)
    {
        var r = new BenchResults();
        foreach (var (key, node) in root)
        {
            if (node is JsonValue value && value.TryGetValue<double>(out var number)) r.Values[key] = number;
        }
        foreach (var (key, node) in root["machine"]!.AsObject()) r.Machine[key] = node!.GetValue<string>();
        foreach (var goal in root["goals"]!.AsArray())
        {
            var rule = goal!["rule"]!.GetValue<string>();
            r.Goals.Add(new BenchGoal(goal["key"]!.GetValue<string>(), goal["what"]!.GetValue<string>(), rule.StartsWith('≥'),
                double.Parse(rule[1..].Trim(), System.Globalization.CultureInfo.InvariantCulture), r[goal["key"]!.GetValue<string>()]));
        }
        return r;
    }

    public void Write(string path, BenchSettings settings) =>
        File.WriteAllText(path, ToJson(settings).ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
}
