using System.Globalization;

namespace VQToken.Ingestion;

/// <summary>Samples frames from a video file with ffmpeg and hands them over as RGB bytes [N, S, S, 3]
/// (resized to S x S, aspect not kept); the engine's <c>ToPixels</c> makes the vision
/// tower's input [N, 3, S, S] in [-1, 1] on the engine thread, so decoding never touches TorchSharp.
/// Streaming: ffmpeg decodes, keeps only the chosen frames (select filter on the frame number) and writes
/// them at their native size as raw rgb24; each is read alone and resized by <see cref="PilBicubicResize"/>,
/// as the official loader does (decord, then PIL's bicubic), so memory holds one native frame, never the video.
/// Rotation metadata is honoured (ffmpeg autorotates before the filters).</summary>
public sealed class FrameSampler(VideoProbe probe)
{
    public VideoOptions Options => probe.Options;

    /// <summary>Probes (and checks the limits of) the file, then samples it.</summary>
    public async Task<SampledFrames> SampleAsync(string path, FrameRequest? request = null, CancellationToken cancellationToken = default)
    {
        var info = await probe.ProbeAsync(path, cancellationToken);
        return await SampleAsync(path, info, request, cancellationToken);
    }

    /// <summary>Samples a file already probed by <see cref="VideoProbe"/>.</summary>
    public async Task<SampledFrames> SampleAsync(string path, VideoInfo info, FrameRequest? request, CancellationToken cancellationToken = default)
    {
        var indices = ChooseIndices(info, request ?? new FrameRequest());
        var size = Options.FrameSize;
        var frames = new RgbFrames(indices.Length, size, new byte[(long)indices.Length * size * size * 3]);   // [N, S, S, 3]
        var decoded = await DecodeIntoAsync(Path.GetFullPath(path), info, indices, frames, cancellationToken);
        return new SampledFrames(frames, indices, info, decoded);
    }

    internal int[] ChooseIndices(VideoInfo info, FrameRequest request)
    {
        var count = request.Count ?? Options.DefaultFrames;
        if (count < 1 || count > Options.MaxFrames)
            throw new VideoIngestException(VideoErrorKind.InvalidFrameRequest,
                $"{count} frames requested; between 1 and {Options.MaxFrames} are allowed");
        if (request.FramesPerSecond is { } fps)
        {
            if (!double.IsFinite(fps) || fps <= 0)
                throw new VideoIngestException(VideoErrorKind.InvalidFrameRequest, $"frames per second must be positive, got {fps}");
            return FrameSelection.ByRate(info.FrameCount, info.FrameRate, fps, count);
        }
        return FrameSelection.Uniform(info.FrameCount, count);
    }

    private async Task<int> DecodeIntoAsync(string path, VideoInfo info, int[] indices, RgbFrames frames, CancellationToken cancellationToken)
    {
        var wanted = indices.Distinct().Order().ToArray();
        var positions = indices.Select((frame, position) => (frame, position)).ToLookup(p => p.frame, p => p.position);
        var size = Options.FrameSize;
        var frameBytes = size * size * 3;
        var nativeBytes = NativeFrameBytes(info);
        var resize = new PilBicubicResize(info.Width, info.Height, size, size);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(Options.DecodeTimeoutSeconds));
        await using var ffmpeg = FfmpegProcess.Start(Options.FfmpegExecutable, DecodeArguments(path, info, wanted));
        // Killing ffmpeg ends the stdout read, which is how a timeout or a cancellation stops the loop.
        using var stop = timeout.Token.Register(ffmpeg.Kill);

        var native = new byte[nativeBytes];   // one frame at the video's own size, reused
        var got = 0;
        while (got < wanted.Length)
        {
            var read = await ffmpeg.StandardOutput.ReadAtLeastAsync(native, nativeBytes, throwOnEndOfStream: false, CancellationToken.None);
            if (read < nativeBytes || timeout.IsCancellationRequested) break;
            var slots = positions[wanted[got]].ToArray();
            var first = frames.Data.AsSpan((int)((long)slots[0] * frameBytes), frameBytes);
            resize.Resize(native, first);
            foreach (var p in slots.Skip(1)) first.CopyTo(frames.Data.AsSpan((int)((long)p * frameBytes), frameBytes));
            got++;
        }
        if (got == wanted.Length) ffmpeg.Kill(); // the rest of the video is not needed
        else await ffmpeg.WaitForExitAsync(CancellationToken.None);

        cancellationToken.ThrowIfCancellationRequested();
        if (timeout.IsCancellationRequested)
            throw new VideoIngestException(VideoErrorKind.Timeout, $"decoding did not finish within {Options.DecodeTimeoutSeconds} s");
        if (got == 0)
            throw new VideoIngestException(VideoErrorKind.Undecodable, "no frame could be decoded: " + Describe(ffmpeg.StderrTail.Replace(path, "input", StringComparison.Ordinal)));

        // A damaged tail: repeat the last good frame where frames are missing.
        var last = positions[wanted[got - 1]].First();
        for (int k = got; k < wanted.Length; k++)
            foreach (var p in positions[wanted[k]]) Array.Copy(frames.Data, (long)last * frameBytes, frames.Data, (long)p * frameBytes, frameBytes);
        return got;
    }

    /// <summary>Bytes of one native rgb24 frame; the probe's limits are checked again because callers may hand
    /// in a <see cref="VideoInfo"/> of their own, and the buffer must stay one array.</summary>
    private int NativeFrameBytes(VideoInfo info)
    {
        var bytes = 3L * info.Width * info.Height;
        if (info.Width < 1 || info.Height < 1 || Math.Max(info.Width, info.Height) > Options.MaxLongSide
            || Math.Min(info.Width, info.Height) > Options.MaxShortSide || bytes > Array.MaxLength)
            throw new VideoIngestException(VideoErrorKind.ResolutionTooHigh,
                $"the video is {info.Width}x{info.Height}; the limit is {Options.MaxLongSide}x{Options.MaxShortSide} (either orientation)");
        return (int)bytes;
    }

    private IEnumerable<string> DecodeArguments(string path, VideoInfo info, int[] wanted)
    {
        var select = string.Join('+', wanted.Select(i => string.Create(CultureInfo.InvariantCulture, $"eq(n,{i})")));
        return
        [
            "-nostdin", "-hide_banner", "-loglevel", "error",
            .. Options.UntrustedInputArguments(),
            "-i", "file:" + path,
            "-map", string.Create(CultureInfo.InvariantCulture, $"0:{info.StreamIndex}"), "-an", "-sn", "-dn",
            // select first so only the chosen frames are converted; full_chroma_int + accurate_rnd: best yuv->rgb.
            // The size is the probed (displayed) one, so every frame has the bytes the reader expects.
            "-vf", string.Create(CultureInfo.InvariantCulture,
                $"select='{select}',scale={info.Width}:{info.Height}:flags=bicubic+full_chroma_int+accurate_rnd,format=rgb24"),
            "-fps_mode", "passthrough", // no frame duplication or dropping: one output frame per selected frame
            "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1",
        ];
    }

    private static string Describe(string stderr) => stderr.Length == 0 ? "ffmpeg gave no details" : stderr.Length > 400 ? stderr[..400] : stderr;
}
