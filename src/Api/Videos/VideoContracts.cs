using System.ComponentModel;

namespace VQToken.Api.Videos;

/// <summary>Processing settings of a video, as sent with an upload (form fields) or a URL (JSON).</summary>
public sealed record VideoSettingsRequest
{
    /// <summary>Frames sampled uniformly over the video (default from Video:DefaultFrames, at most Video:MaxFrames).</summary>
    [DefaultValue(32)] public int? Frames { get; init; }
    /// <summary><c>vqtoken-adaptive</c> (default: the published path; <c>vqtoken-fixed</c> when only <c>k</c> is given),
    /// <c>vqtoken-fixed</c> or <c>full</c> (the LLaVA-OV baseline).</summary>
    [DefaultValue("vqtoken-adaptive")] public string? Compression { get; init; }
    /// <summary>Codebook size for vqtoken-fixed (default 32).</summary>
    public int? K { get; init; }
    /// <summary>Smallest K for vqtoken-adaptive (default 12).</summary>
    public int? MinK { get; init; }
    /// <summary>Largest K for vqtoken-adaptive (default 32).</summary>
    public int? MaxK { get; init; }
    /// <summary>Elbow rule of vqtoken-adaptive: <c>official</c> (default, the published rule) or <c>centered</c>.</summary>
    [DefaultValue("official")] public string? Elbow { get; init; }
    /// <summary>What the LLM reads in the VQToken modes: <c>codebook</c> (default, the published path) or
    /// <c>attention</c> (VQ-Attention; only for checkpoints with its weights).</summary>
    [DefaultValue("codebook")] public string? Tokens { get; init; }
}

/// <summary>JSON body of <c>POST /videos</c> for a video on the web. Unknown members are refused (400), so a
/// misspelt setting never falls back to the defaults silently.</summary>
[System.Text.Json.Serialization.JsonUnmappedMemberHandling(System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow)]
public sealed record VideoUrlRequest
{
    /// <summary>http(s) URL of the video; private and loopback addresses are refused.</summary>
    [DefaultValue("https://example.com/video.mp4")] public string? Url { get; init; }
    public int? Frames { get; init; }
    public string? Compression { get; init; }
    public int? K { get; init; }
    public int? MinK { get; init; }
    public int? MaxK { get; init; }
    public string? Elbow { get; init; }
    public string? Tokens { get; init; }

    public VideoSettingsRequest Settings => new()
    {
        Frames = Frames, Compression = Compression, K = K, MinK = MinK, MaxK = MaxK, Elbow = Elbow, Tokens = Tokens,
    };
}

/// <summary>A video as the API shows it. <c>frameTimes</c>: each sampled frame's time in the source, in seconds
/// (null until processed).</summary>
public sealed record VideoResponse(
    string Id, string Status, string? Reason, VideoSourceView Source, VideoSettingsView Settings, VideoProgressView? Progress,
    VideoProbeView? Probe, VideoTokensView? Tokens, IReadOnlyDictionary<string, double> TimingsMs, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt,
    IReadOnlyList<double>? FrameTimes = null)
{
    public static VideoResponse From(VideoRecord r) => new(
        r.Id, Wire(r.Status), r.Reason, new VideoSourceView(r.Source.Kind == VideoSourceKind.Url ? "url" : "upload", r.Source.Location),
        VideoSettingsView.From(r.Settings),
        r.Progress is null ? null : new VideoProgressView(r.Progress.Stage, r.Progress.Fraction),
        r.Probe is null ? null : new VideoProbeView(r.Probe.DurationSeconds, r.Probe.Fps, r.Probe.Width, r.Probe.Height, r.Probe.Codec),
        r.Tokens is not { } tokens ? null : new VideoTokensView(tokens.Original, tokens.Compressed, tokens.Ratio),
        r.StageMilliseconds, r.CreatedAt, r.UpdatedAt, r.FrameTimes);

    public static string Wire(VideoStatus s) => s.ToString().ToLowerInvariant();
}

public sealed record VideoSourceView(string Kind, string Location);
/// <summary>How the video is processed. <c>elbow</c> only for vqtoken-adaptive; <c>tokens</c> null on videos
/// stored before token paths existed (they use VQ-Attention when the checkpoint has it).</summary>
public sealed record VideoSettingsView(int Frames, string Compression, int? K, int? MinK, int? MaxK, string? Elbow, string? Tokens)
{
    public static VideoSettingsView From(CompressionSettings s) => new(
        s.Frames, CompressionModes.WireName(s.Mode), s.K, s.MinK, s.MaxK,
        s.Mode == CompressionMode.VQTokenAdaptive ? CompressionModes.WireName(s.EffectiveElbow) : null,
        s.Tokens is { } tokens ? CompressionModes.WireName(tokens) : null);
}
public sealed record VideoProgressView(string Stage, double Fraction);
public sealed record VideoProbeView(double DurationSeconds, double Fps, int Width, int Height, string Codec);
/// <summary>Frame tokens before compression, visual tokens the LLM receives, and their ratio (compressed / original).</summary>
public sealed record VideoTokensView(long Original, long Compressed, double Ratio);

/// <summary>A page of videos, newest first; pass <c>next</c> as <c>after</c> for the next page.</summary>
public sealed record VideoListResponse(IReadOnlyList<VideoResponse> Items, string? Next);
