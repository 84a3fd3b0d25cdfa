using System.ComponentModel.DataAnnotations;

namespace VQToken.Ingestion;

/// <summary>Limits and tool settings for probing and sampling videos (configuration section "Video").</summary>
public sealed class VideoOptions : IValidatableObject
{
    public const string Section = "Video";

    /// <summary>Frames sampled when the caller does not say (the LLaVA-OneVision evaluations use 32).</summary>
    [Range(1, 1024)] public int DefaultFrames { get; set; } = 32;
    /// <summary>Most frames one request may ask for (frames stream through the engine in batches, so memory does
    /// not grow with them; the features of a video's frames are held once for its K-means).</summary>
    [Range(1, 1024)] public int MaxFrames { get; set; } = 1024;
    /// <summary>Largest codebook a request may ask for (k, or maxK in adaptive mode): with the two limits
    /// below it bounds the K-means work of one video. The API checks it against the cached form's own limit.</summary>
    [Range(1, int.MaxValue)] public int MaxK { get; set; } = 256;
    /// <summary>Widest adaptive range (maxK − minK): adaptive mode fits every K in the range.</summary>
    [Range(0, int.MaxValue)] public int MaxAdaptiveKSpan { get; set; } = 64;
    /// <summary>Largest frames × k (× maxK in adaptive mode): one Lloyd iteration reads frames · 729 rows against k centres
    /// (the default admits 1024 frames at the published K range 12..32).</summary>
    [Range(1, 33_554_432)] public int MaxFramesTimesK { get; set; } = 32_768;
    /// <summary>Side of the square frames handed to the vision tower (SigLIP so400m: 384).</summary>
    [Range(1, 4096)] public int FrameSize { get; set; } = 384;
    [Range(0.1, 86400)] public double MaxDurationSeconds { get; set; } = 3600;
    /// <summary>Longest side of a frame, either orientation (default 8K).</summary>
    [Range(1, 65536)] public int MaxLongSide { get; set; } = 7680;
    /// <summary>Shortest side of a frame, either orientation (default 8K).</summary>
    [Range(1, 65536)] public int MaxShortSide { get; set; } = 4320;
    /// <summary>Folder holding the ffmpeg and ffprobe executables; empty: found on PATH.</summary>
    public string ToolsFolder { get; set; } = "";
    [Range(1, 3600)] public int ProbeTimeoutSeconds { get; set; } = 60;
    [Range(1, 86400)] public int DecodeTimeoutSeconds { get; set; } = 900;

    /// <summary>Demuxers ffmpeg may use on untrusted bytes. Playlists (hls, concat), image sequences,
    /// tty and the like are left out on purpose: they read other files or URLs, or are not videos.</summary>
    [Required] public string AllowedContainers { get; set; } =
        "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,flv,mpegts,mpeg,ogg,gif,asf,mxf,nut,ivf,h264,hevc,m4v,dv,rm,wtv";

    /// <summary>Requests without k get the paper's settings (k 32, adaptive 12..32): the limits must admit them.</summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        const int defaultK = 32, defaultSpan = 32 - 12;
        if (MaxK < defaultK) yield return new($"Video:MaxK must be at least {defaultK} (the default k and maxK)", [nameof(MaxK)]);
        if (MaxAdaptiveKSpan < defaultSpan) yield return new($"Video:MaxAdaptiveKSpan must be at least {defaultSpan} (the default adaptive range 12..32)", [nameof(MaxAdaptiveKSpan)]);
        if ((long)DefaultFrames * defaultK > MaxFramesTimesK)
            yield return new($"Video:MaxFramesTimesK must be at least Video:DefaultFrames x {defaultK} = {(long)DefaultFrames * defaultK}", [nameof(MaxFramesTimesK)]);
    }

    internal string FfmpegExecutable => ToolsFolder.Length == 0 ? "ffmpeg" : Path.Combine(ToolsFolder, "ffmpeg");
    internal string FfprobeExecutable => ToolsFolder.Length == 0 ? "ffprobe" : Path.Combine(ToolsFolder, "ffprobe");

    /// <summary>Input options for every ffmpeg/ffprobe run on untrusted bytes: local file only, known containers only.</summary>
    internal IEnumerable<string> UntrustedInputArguments() =>
        ["-protocol_whitelist", "file", "-format_whitelist", AllowedContainers];
}
