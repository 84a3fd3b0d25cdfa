using System.Text.Json.Serialization;

namespace VQToken.Cli.Eval;

/// <summary>One sample answered in one mode: a line of the append-only results file.</summary>
public sealed record EvalRecord(
    [property: JsonPropertyName("sample")] string SampleId,
    [property: JsonPropertyName("mode")] string Mode,
    [property: JsonPropertyName("answer")] string Answer,
    [property: JsonPropertyName("predicted")] string? Predicted,
    [property: JsonPropertyName("correct")] bool Correct,
    [property: JsonPropertyName("visual_tokens")] int VisualTokens,
    [property: JsonPropertyName("seconds")] double Seconds,
    [property: JsonPropertyName("output")] string Output)
{
    [JsonIgnore] public string Key => KeyOf(SampleId, Mode);

    public static string KeyOf(string sampleId, string mode) => sampleId + "|" + mode;
}
