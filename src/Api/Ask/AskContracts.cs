using System.ComponentModel;

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
}

public sealed record AskResponse(
    string Answer, string FinishReason, AskUsage Usage, AskCompression Compression, AskTimings Timings, AskCacheInfo Cache);

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
