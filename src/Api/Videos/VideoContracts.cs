using System.ComponentModel;

namespace VQToken.Api.Videos;

/// <summary>Processing settings of a video, as sent with an upload (form fields) or a URL (JSON).</summary>
public sealed record VideoSettingsRequest
{
    /// <summary>Frames sampled uniformly over the video (default from Video:DefaultFrames, at most Video:MaxFrames);
    /// not with <c>fps</c>.</summary>
    [DefaultValue(32)] public int? Frames { get; init; }
    /// <summary>Sample by rate instead: this many frames per second of the source (capped by <c>maxFrames</c>).</summary>
    public double? Fps { get; init; }
    /// <summary>Cap of sampling by rate (default Video:MaxFrames): beyond it the frames are spread uniformly.</summary>
    public int? MaxFrames { get; init; }
    /// <summary>Sample only from this time of the source on, in seconds (default: its start).</summary>
    public double? Start { get; init; }
    /// <summary>Sample only before this time of the source, in seconds (default: its end; at most its duration).</summary>
    public double? End { get; init; }
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
    public double? Fps { get; init; }
    public int? MaxFrames { get; init; }
    public double? Start { get; init; }
    public double? End { get; init; }
    public string? Compression { get; init; }
    public int? K { get; init; }
    public int? MinK { get; init; }
    public int? MaxK { get; init; }
    public string? Elbow { get; init; }
    public string? Tokens { get; init; }

    public VideoSettingsRequest Settings => new()
    {
        Frames = Frames, Fps = Fps, MaxFrames = MaxFrames, Start = Start, End = End,
        Compression = Compression, K = K, MinK = MinK, MaxK = MaxK, Elbow = Elbow, Tokens = Tokens,
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
        r.Progress is not { } p ? null : new VideoProgressView(p.Stage, p.Fraction, p.FramesDone, p.FramesTotal, p.EtaSeconds),
        r.Probe is null ? null : new VideoProbeView(r.Probe.DurationSeconds, r.Probe.Fps, r.Probe.Width, r.Probe.Height, r.Probe.Codec),
        r.Tokens is not { } tokens ? null : new VideoTokensView(tokens.Original, tokens.Compressed, tokens.Ratio),
        r.StageMilliseconds, r.CreatedAt, r.UpdatedAt, r.FrameTimes);

    public static string Wire(VideoStatus s) => s.ToString().ToLowerInvariant();
}

public sealed record VideoSourceView(string Kind, string Location);
/// <summary>How the video is processed. <c>frames</c> for uniform sampling, <c>fps</c> + <c>maxFrames</c> for sampling
/// by rate; <c>start</c>/<c>end</c> the time range (null: the whole video). <c>elbow</c> only for vqtoken-adaptive;
/// <c>tokens</c> null on videos stored before token paths existed (they use VQ-Attention when the checkpoint has it).</summary>
public sealed record VideoSettingsView(int? Frames, double? Fps, int? MaxFrames, double? Start, double? End,
    string Compression, int? K, int? MinK, int? MaxK, string? Elbow, string? Tokens)
{
    public static VideoSettingsView From(CompressionSettings s) => new(
        s.Fps is null ? s.Frames : null, s.Fps, s.Fps is null ? null : s.MaxFrames, s.Start, s.End,
        CompressionModes.WireName(s.Mode), s.K, s.MinK, s.MaxK,
        s.Mode == CompressionMode.VQTokenAdaptive ? CompressionModes.WireName(s.EffectiveElbow) : null,
        s.Tokens is { } tokens ? CompressionModes.WireName(tokens) : null);
}
/// <summary>Processing progress: <c>stage</c> and its <c>fraction</c>; <c>framesDone</c> of <c>framesTotal</c> frames through
/// the vision tower (known once the video is probed) and <c>etaSeconds</c>, the time the remaining frames should take
/// at the rate so far (the compression follows them).</summary>
public sealed record VideoProgressView(string Stage, double Fraction, int? FramesDone = null, int? FramesTotal = null, double? EtaSeconds = null);
public sealed record VideoProbeView(double DurationSeconds, double Fps, int Width, int Height, string Codec);
/// <summary>Frame tokens before compression, visual tokens the LLM receives, and their ratio (compressed / original).</summary>
public sealed record VideoTokensView(long Original, long Compressed, double Ratio);

/// <summary>A page of videos, newest first; pass <c>next</c> as <c>after</c> for the next page.</summary>
public sealed record VideoListResponse(IReadOnlyList<VideoResponse> Items, string? Next);
