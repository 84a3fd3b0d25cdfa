using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace VQToken.Cli.Eval;

/// <summary>One multiple-choice video question (a line of the dataset's JSONL file).</summary>
public sealed record EvalSample
{
    /// <summary>File path (relative to the JSONL file's folder, or absolute) or http(s) URL.</summary>
    [JsonPropertyName("video")] public required string Video { get; init; }
    [JsonPropertyName("question")] public required string Question { get; init; }
    [JsonPropertyName("options")] public required IReadOnlyList<string> Options { get; init; }
    /// <summary>The correct option's letter ("A" for the first option).</summary>
    [JsonPropertyName("answer")] public required string Answer { get; init; }

    /// <summary>Line number in the file plus a hash of the content: a stable key for resuming.</summary>
    [JsonIgnore] public string Id { get; init; } = "";

    /// <summary>Reads and checks every line; blank lines are skipped.</summary>
    public static List<EvalSample> ReadJsonl(string path)
    {
        var samples = new List<EvalSample>();
        int line = 0;
        foreach (var text in File.ReadLines(path))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            EvalSample sample;
            try
            {
                sample = JsonSerializer.Deserialize<EvalSample>(text) ?? throw new JsonException("null");
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{Path.GetFileName(path)} line {line}: not a sample ({e.Message})", e);
            }
            sample.Check(line);
            var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.Trim())))[..12];
            samples.Add(sample with { Id = $"{line}-{hash}" });
        }
        return samples;
    }

    private void Check(int line)
    {
        if (Options.Count is < 2 or > 26) throw new InvalidDataException($"line {line}: between 2 and 26 options are needed");
        var answer = Answer.Trim().ToUpperInvariant();
        if (answer.Length != 1 || answer[0] - 'A' >= Options.Count || answer[0] < 'A')
            throw new InvalidDataException($"line {line}: answer '{Answer}' is not the letter of an option");
    }
}
