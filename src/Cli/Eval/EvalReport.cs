using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using VQToken.Cli.Plots;

namespace VQToken.Cli.Eval;

/// <summary>Per-mode accuracy, average visual tokens, TokDense (accuracy in % / visual tokens, the
/// paper's Eq. 2) and seconds per sample, from the results file; written as JSON, Markdown and a PNG.</summary>
public sealed record EvalReport(IReadOnlyList<EvalReport.ModeSummary> Modes, int DatasetSamples)
{
    /// <param name="Tokens">Token path(s) the mode's answers read: codebook, attention (joined with '+' when a
    /// resumed run mixed them), null in full mode.</param>
    public sealed record ModeSummary(string Mode, int Samples, int Correct, double Accuracy, double AverageVisualTokens, double TokDense, double SecondsPerSample,
        string? Tokens = null);

    public const string JsonFile = "report.json", MarkdownFile = "report.md", ChartFile = "report.png";

    public static EvalReport From(IEnumerable<EvalRecord> records, IReadOnlyList<string> modes, int datasetSamples)
    {
        var byMode = records.GroupBy(r => r.Mode).ToDictionary(g => g.Key, g => g.ToList());
        var summaries = modes.Where(byMode.ContainsKey).Select(mode =>
        {
            var list = byMode[mode];
            int correct = list.Count(r => r.Correct);
            double accuracy = (double)correct / list.Count, tokens = list.Average(r => r.VisualTokens);
            var paths = list.Select(r => r.Tokens).OfType<string>().Distinct().Order().ToList();
            return new ModeSummary(mode, list.Count, correct, accuracy, tokens, accuracy * 100 / tokens, list.Average(r => r.Seconds),
                paths.Count == 0 ? null : string.Join('+', paths));
        }).ToList();
        return new EvalReport(summaries, datasetSamples);
    }

    public void Write(string dir, string dataset)
    {
        var json = new JsonObject
        {
            ["dataset"] = dataset,
            ["dataset_samples"] = DatasetSamples,
            ["tokdense"] = "accuracy in percent / average visual tokens (paper Eq. 2)",
            ["modes"] = new JsonArray(Modes.Select(m => (JsonNode)new JsonObject
            {
                ["mode"] = m.Mode, ["tokens"] = m.Tokens, ["samples"] = m.Samples, ["correct"] = m.Correct, ["accuracy"] = Math.Round(m.Accuracy, 6),
                ["avg_visual_tokens"] = Math.Round(m.AverageVisualTokens, 3), ["tokdense"] = Math.Round(m.TokDense, 6),
                ["seconds_per_sample"] = Math.Round(m.SecondsPerSample, 4),
            }).ToArray()),
        };
        File.WriteAllText(Path.Combine(dir, JsonFile), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        File.WriteAllText(Path.Combine(dir, MarkdownFile), Markdown(dataset));
        if (Modes.Count > 0)
            ModeChart.Write(Path.Combine(dir, ChartFile), $"{dataset}: accuracy and latency vs visual tokens",
                Modes.Select(m => new ModeChart.Point(m.Mode, m.AverageVisualTokens, m.Accuracy, m.SecondsPerSample)).ToList());
    }

    private string Markdown(string dataset)
    {
        var b = new StringBuilder();
        b.AppendLine($"# Evaluation: {dataset}");
        b.AppendLine();
        b.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Multiple choice (NExT-QA MC prompt), {DatasetSamples} samples in the dataset. TokDense = accuracy (%) / average visual tokens."));
        b.AppendLine();
        b.AppendLine("| mode | token path | samples | accuracy | avg visual tokens | TokDense | seconds / sample |");
        b.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var m in Modes)
            b.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {m.Mode} | {m.Tokens ?? "pooled frames"} | {m.Samples} | {m.Accuracy * 100:0.00} % | {m.AverageVisualTokens:0.##} | {m.TokDense:0.####} | {m.SecondsPerSample:0.###} |"));
        b.AppendLine();
        b.AppendLine($"![accuracy and latency vs visual tokens]({ChartFile})");
        return b.ToString();
    }
}
