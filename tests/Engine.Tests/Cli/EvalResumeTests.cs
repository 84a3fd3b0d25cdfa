using System.Text.Json;
using VQToken.Cli.Eval;
using VQToken.Engine.Checkpoints;
using VQToken.Engine.Tests.Video;
using VQToken.Testing;

namespace VQToken.Engine.Tests.Cli;

[Collection(WholeProcessCollection.Name)]
public sealed class EvalResumeTests : IDisposable
{
    private static readonly string[] Modes = ["full", "vqtoken-fixed", "vqtoken-adaptive"];
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("vqtoken-eval-test-");

    private string At(string name) => Path.Combine(_dir.FullName, name);

    [Fact]
    public void Eval_resumes_after_an_interruption_and_reports_accuracy_tokens_and_tokdense_per_mode()
    {
        RandomCheckpoint.Write(At("tiny"), new RandomCheckpoint.Options(CheckpointSize.Tiny, Seed: 3));
        Directory.CreateDirectory(At("videos"));
        foreach (var (name, source) in new[] { ("a.mp4", "testsrc2=size=96x64"), ("b.mp4", "smptebars=size=96x64"), ("c.mp4", "color=c=green:size=96x64") })
            FfmpegTool.Run("-f", "lavfi", "-i", source + ":rate=10", "-t", "1",
                "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", At("videos/" + name));
        File.WriteAllLines(At("data.jsonl"),
        [
            """{"video": "videos/a.mp4", "question": "What moves?", "options": ["a bar", "a dog", "nothing"], "answer": "A"}""",
            "",
            """{"video": "videos/b.mp4", "question": "What is shown?", "options": ["colour bars", "a cat", "a car", "a tree"], "answer": "a"}""",
            $$"""{"video": "{{At("videos/c.mp4")}}", "question": "Which colour?", "options": ["red", "green"], "answer": "B"}""",
        ]);
        string results = At("out/results.jsonl");

        Assert.Equal(0, Eval("--max-samples", "1"));                      // the "interrupted" run: one sample only
        var firstRun = File.ReadAllLines(results);
        Assert.Equal(3, firstRun.Length);
        Assert.All(ReportModes(), m => Assert.Equal(1, m.GetProperty("samples").GetInt32()));
        File.AppendAllText(results, """{"sample": "3-torn", "mo""");        // killed in the middle of a write

        Assert.Equal(0, Eval());
        var lines = File.ReadAllLines(results);
        Assert.Equal(firstRun, lines.Take(3));                             // answered pairs were not run again
        var records = lines.Skip(3).Where(l => l.StartsWith("{\"sample\":", StringComparison.Ordinal) && l.EndsWith('}'))
            .Select(l => JsonSerializer.Deserialize<EvalRecord>(l)!).Concat(firstRun.Select(l => JsonSerializer.Deserialize<EvalRecord>(l)!)).ToList();
        Assert.Equal(9, records.Count);
        Assert.Equal(9, records.Select(r => r.Key).Distinct().Count());

        var modes = ReportModes().ToDictionary(m => m.GetProperty("mode").GetString()!);
        Assert.Equal(Modes, modes.Keys);
        foreach (var m in modes.Values)
        {
            Assert.Equal(3, m.GetProperty("samples").GetInt32());
            double accuracy = m.GetProperty("accuracy").GetDouble(), tokens = m.GetProperty("avg_visual_tokens").GetDouble();
            Assert.InRange(accuracy, 0, 1);
            Assert.Equal(accuracy * 100 / tokens, m.GetProperty("tokdense").GetDouble(), 4);
            Assert.True(m.GetProperty("seconds_per_sample").GetDouble() > 0);
        }
        double Tokens(string mode) => modes[mode].GetProperty("avg_visual_tokens").GetDouble();
        Assert.Equal(2 * 196 + 1, Tokens("full"));                          // 2 frames pooled to 14x14 + newline
        Assert.Equal(8 + 1, Tokens("vqtoken-fixed"));                        // K = 8 + newline
        Assert.InRange(Tokens("vqtoken-adaptive"), 2 + 1, 8 + 1);
        var markdown = File.ReadAllText(At("out/report.md"));
        Assert.Contains("| full | pooled frames | 3 |", markdown);
        Assert.Contains("| vqtoken-fixed | codebook | 3 |", markdown);
        Assert.Contains("| vqtoken-adaptive | codebook | 3 |", markdown);
        Assert.False(modes["full"].TryGetProperty("tokens", out var none) && none.ValueKind != JsonValueKind.Null);
        Assert.Equal("codebook", modes["vqtoken-fixed"].GetProperty("tokens").GetString());   // the path each row used
        Assert.Equal("codebook", modes["vqtoken-adaptive"].GetProperty("tokens").GetString());
        Assert.All(records.Where(r => r.Mode != "full"), r => Assert.Equal("codebook", r.Tokens));
        Assert.Contains("TokDense", markdown);
        Assert.True(new FileInfo(At("out/report.png")).Length > 1000);

        Assert.Equal(0, Eval());                                             // nothing left: the file stays as it is
        Assert.Equal(lines, File.ReadAllLines(results));
    }

    private int Eval(params string[] extra) => new EvalCommand().Run(
    [
        At("data.jsonl"), "--checkpoint", At("tiny"), "--out", At("out"), "--frames", "2", "--k", "8", "--min-k", "2",
        "--max-new-tokens", "2", "--device", "cpu", "--threads", "2", .. extra,
    ]);

    private List<JsonElement> ReportModes()
    {
        using var report = JsonDocument.Parse(File.ReadAllText(At("out/report.json")));
        return report.RootElement.GetProperty("modes").EnumerateArray().Select(e => e.Clone()).ToList();
    }

    public void Dispose() => _dir.Delete(recursive: true);
}
