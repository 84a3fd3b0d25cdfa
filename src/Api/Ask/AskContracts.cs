using System.ComponentModel;
using System.Text.Json.Serialization;

namespace VQToken.Api.Ask;

/// <summary>Body of <c>POST /videos/{id}/ask</c>.</summary>
public sealed record AskRequestBody
{
    /// <summary>The question about the video.</summary>
    [DefaultValue("What happens in this video?")] public string? Question { get; init; }
    /// <summary>Tokens to generate at most (default 128, at most Ask:MaxNewTokens).</summary>
    [DefaultValue(128)] public int? MaxNewTokens { get; init; }
    /// <summary>0 (default) = greedy; otherwise sampling temperature (≤ 2).</summary>
    [DefaultValue(0.0)] public double? Temperature { get; init; }
    /// <summary>Nucleus sampling mass in (0, 1] (default 1 = off).</summary>
    public double? TopP { get; init; }
    /// <summary>Sample among the K most likely tokens (0 = off).</summary>
    public int? TopK { get; init; }
    /// <summary>Seed for sampling: the same seed gives the same answer.</summary>
    public long? Seed { get; init; }
    /// <summary>Up to 4 strings that end the answer (not included).</summary>
    public IReadOnlyList<string>? Stop { get; init; }
    /// <summary>Stream tokens as Server-Sent Events (same as Accept: text/event-stream).</summary>
    public bool? Stream { get; init; }
    /// <summary>Also return where the answer looked (<c>evidence</c>: frames with times, visual tokens, a heat picture; docs/EVIDENCE.md).</summary>
    [DefaultValue(false)] public bool? Evidence { get; init; }
}

/// <summary><c>evidence</c> only when asked for.</summary>
public sealed record AskResponse(
    string Answer, string FinishReason, AskUsage Usage, AskCompression Compression, AskTimings Timings, AskCacheInfo Cache,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] AskEvidence? Evidence = null);

/// <summary>Where the answer looked (docs/EVIDENCE.md): the share of its attention that went to the video's
/// tokens, the answer tokens it is averaged over, every sampled frame's score (top first), every visual token's mass
/// and size in grid cells, and the address of the heat picture (null when none is kept). Attention, not causation.</summary>
public sealed record AskEvidence(double VisualShare, int AnswerTokens, IReadOnlyList<EvidenceFrame> Frames, IReadOnlyList<EvidenceCluster> Clusters, string? Picture);
/// <summary>A sampled frame: its position in the sampled frames, its time in the source (seconds; null for videos
/// processed before times were kept) and the attention mass that fell on its cells.</summary>
public sealed record EvidenceFrame(int Index, double? Time, double Score);
/// <summary>A visual token (a cluster; in full mode a pooled cell): its row among the visual tokens, its mass and
/// the grid cells it stands for (image_newline is not listed: its mass counts in the visual share only).</summary>
public sealed record EvidenceCluster(int Index, double Mass, int Cells);

/// <summary>visualTokens: tokens the video became; promptTokens: the whole prompt incl. them.</summary>
public sealed record AskUsage(int VisualTokens, int PromptTokens, int CompletionTokens);
/// <summary>How the answering video was compressed: <c>tokens</c> is the token path the LLM read (codebook or
/// attention; null in full mode), <c>elbow</c> the rule that chose K (adaptive mode only).</summary>
public sealed record AskCompression(string Mode, int? K, long OriginalTokens, double Ratio, string? Elbow = null, string? Tokens = null)
{
    public static AskCompression Of(PreparedVideo video)
    {
        var encoding = video.Encoding;
        var engine = encoding.Compressed?.Settings;
        return new(CompressionModes.WireName(video.Record.Settings.Mode), encoding.Compressed?.K, encoding.OriginalTokens, encoding.Ratio,
            video.Record.Settings.Mode == CompressionMode.VQTokenAdaptive && engine is not null ? CompressionModes.WireName(engine.EffectiveElbow) : null,
            engine is null ? null : CompressionModes.WireName(encoding.Compressed!.TokenPath));
    }
}
public sealed record AskTimings(double QueueMs, double PrefillMs, double DecodeMs, double TotalMs);
/// <summary>codebook: the compressed video came from the cache (no vision pass); prefix: the KV cache of
/// system prompt + visual tokens was reused.</summary>
public sealed record AskCacheInfo(string Codebook, string Prefix);

/// <summary>Streaming: one event per piece of text.</summary>
public sealed record AskTokenEvent(string Text);
