using System.Text.Json.Serialization;

namespace VQToken.Cli.Eval;

/// <summary>One sample answered in one mode: a line of the append-only results file. <c>tokens</c> is the
/// token path the LLM read (codebook or attention; absent in full mode), <c>k</c> the codebook size.</summary>
public sealed record EvalRecord(
    [property: JsonPropertyName("sample")] string SampleId,
    [property: JsonPropertyName("mode")] string Mode,
    [property: JsonPropertyName("answer")] string Answer,
    [property: JsonPropertyName("predicted")] string? Predicted,
    [property: JsonPropertyName("correct")] bool Correct,
    [property: JsonPropertyName("visual_tokens")] int VisualTokens,
    [property: JsonPropertyName("seconds")] double Seconds,
    [property: JsonPropertyName("output")] string Output,
    [property: JsonPropertyName("tokens"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Tokens = null,
    [property: JsonPropertyName("k"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? K = null)
{
    [JsonIgnore] public string Key => KeyOf(SampleId, Mode);

    public static string KeyOf(string sampleId, string mode) => sampleId + "|" + mode;
}
