using System.Globalization;
using FFMpegCore;
using FFMpegCore.Exceptions;

namespace VQToken.Ingestion;

/// <summary>Sniffs a file with ffprobe (never trusting its name or a Content-Type) and checks the limits:
/// container, a real video stream, duration, resolution; counts the frames from the packets.</summary>
public sealed class VideoProbe(VideoOptions options)
{
    public VideoOptions Options { get; } = options;

    public async Task<VideoInfo> ProbeAsync(string path, CancellationToken cancellationToken = default)
    {
        path = Path.GetFullPath(path);
        var file = new FileInfo(path);
        if (!file.Exists) throw new VideoIngestException(VideoErrorKind.NotAVideo, "the video file does not exist");
        if (file.Length == 0) throw new VideoIngestException(VideoErrorKind.NotAVideo, "the file is empty");

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(Options.ProbeTimeoutSeconds));
        try
        {
            var analysis = await AnalyseAsync(path, timeout.Token);
            var info = Describe(analysis);
            CheckLimits(info);
            return info;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new VideoIngestException(VideoErrorKind.Timeout, $"ffprobe did not finish within {Options.ProbeTimeoutSeconds} s");
        }
    }

    private async Task<IMediaAnalysis> AnalyseAsync(string path, CancellationToken cancellationToken)
    {
        if (path.Contains('"')) throw new VideoIngestException(VideoErrorKind.NotAVideo, "unsupported file name");
        var ffOptions = new FFOptions { BinaryFolder = Options.ToolsFolder };
        // FFMpegCore puts these after the file name; ffprobe applies input options wherever they stand.
        // -count_packets: demux the whole file once and count each stream's packets (one per frame),
        // whatever the header claims; FFMpegCore keeps the count in the stream's ExtensionData.
        var custom = string.Join(' ', Options.UntrustedInputArguments()) + " -count_packets";
        try
        {
            return await FFProbe.AnalyseAsync(path, ffOptions, custom, cancellationToken);
        }
        catch (FFProbeProcessException e)
        {
            throw Classify(string.Join('\n', e.StandardError).Replace(path, "input", StringComparison.Ordinal), e);
        }
        catch (Exception e) when (e is FFProbeException or System.ComponentModel.Win32Exception)
        {
            throw new VideoIngestException(VideoErrorKind.ToolUnavailable, "ffprobe is not available: " + e.Message, e);
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Exception e) when (e is not VideoIngestException)
        {
            // FFMpegCore could not read ffprobe's answer (no format section, odd values): not a video we can use.
            throw new VideoIngestException(VideoErrorKind.NotAVideo, "ffprobe found no usable video container", e);
        }
    }

    private static VideoIngestException Classify(string stderr, Exception inner)
    {
        if (stderr.Contains("not on whitelist", StringComparison.OrdinalIgnoreCase))
            return new(VideoErrorKind.NotAVideo, "the file is not a supported video container", inner);
        if (stderr.Contains("moov atom not found", StringComparison.OrdinalIgnoreCase))
            return new(VideoErrorKind.Undecodable, "the file looks like an MP4 but is truncated or corrupt (no moov atom)", inner);
        return new(VideoErrorKind.NotAVideo, "ffprobe could not read the file as a video: " + FirstLine(stderr), inner);
    }

    private static VideoInfo Describe(IMediaAnalysis analysis)
    {
        var streams = analysis.VideoStreams.Where(s => !IsCoverArt(s)).OrderBy(s => s.Index).ToList();
        if (streams.Count == 0)
        {
            var what = analysis.VideoStreams.Count > 0 ? "only a cover image" : analysis.AudioStreams.Count > 0 ? "only audio" : "no streams";
            throw new VideoIngestException(VideoErrorKind.NoVideoStream, $"the file has no video stream ({what})");
        }
        var video = streams[0];
        var rotation = ((video.Rotation % 360) + 360) % 360;
        var quarterTurn = rotation is 90 or 270;
        var frames = PacketCount(analysis, video.Index);
        if (frames == 0) throw new VideoIngestException(VideoErrorKind.Undecodable, "the video stream has no frames");
        var fps = new[] { video.AverageFrameRate, video.RealFrameRate }.FirstOrDefault(f => double.IsFinite(f) && f > 0);
        if (fps == 0) fps = analysis.Duration.TotalSeconds > 0 ? frames / analysis.Duration.TotalSeconds : 25;
        var duration = analysis.Duration.TotalSeconds > 0 ? analysis.Duration.TotalSeconds : frames / fps;
        var (width, height) = (video.Width ?? 0, video.Height ?? 0);
        if (width <= 0 || height <= 0)
            throw new VideoIngestException(VideoErrorKind.Undecodable, "the video stream has no frame size");
        return new VideoInfo(
            FormatName: analysis.Format.FormatName,
            CodecName: video.CodecName ?? "unknown",
            StreamIndex: video.Index,
            DurationSeconds: duration,
            FrameCount: frames,
            FrameRate: fps,
            Width: quarterTurn ? height : width,
            Height: quarterTurn ? width : height,
            Rotation: rotation,
            HasAudio: analysis.AudioStreams.Count > 0);
    }

    private static long PacketCount(IMediaAnalysis analysis, int streamIndex)
    {
        var raw = analysis.Raw.Streams.FirstOrDefault(s => s.Index == streamIndex);
        if (raw?.ExtensionData is { } extra && extra.TryGetValue("nb_read_packets", out var value)
            && long.TryParse(value.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var count))
            return count;
        throw new VideoIngestException(VideoErrorKind.Undecodable, "ffprobe could not count the video frames");
    }

    private static bool IsCoverArt(VideoStream stream) =>
        stream.Disposition is { } d && d.TryGetValue("attached_pic", out var cover) && cover;

    private void CheckLimits(VideoInfo info)
    {
        if (info.DurationSeconds > Options.MaxDurationSeconds)
            throw new VideoIngestException(VideoErrorKind.TooLong,
                $"the video lasts {info.DurationSeconds:0.#} s; the limit is {Options.MaxDurationSeconds:0.#} s");
        var longSide = Math.Max(info.Width, info.Height);
        var shortSide = Math.Min(info.Width, info.Height);
        if (longSide > Options.MaxLongSide || shortSide > Options.MaxShortSide)
            throw new VideoIngestException(VideoErrorKind.ResolutionTooHigh,
                $"the video is {info.Width}x{info.Height}; the limit is {Options.MaxLongSide}x{Options.MaxShortSide} (either orientation)");
    }

    private static string FirstLine(string text)
    {
        var line = text.Split('\n', '|').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0) ?? "no details";
        return line.Length > 300 ? line[..300] : line;
    }
}
