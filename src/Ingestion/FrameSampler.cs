using System.Globalization;
using System.Threading.Channels;

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

    /// <summary>Probes the file and checks its limits (what <see cref="StreamAsync"/> needs first).</summary>
    public Task<VideoInfo> ProbeAsync(string path, CancellationToken cancellationToken = default) => probe.ProbeAsync(path, cancellationToken);

    /// <summary>Samples a file already probed by <see cref="VideoProbe"/>, all frames at once (the CLI, the cluster picture).</summary>
    public Task<SampledFrames> SampleAsync(string path, VideoInfo info, FrameRequest? request, CancellationToken cancellationToken = default) =>
        SampleAsync(path, info, ChooseIndices(info, request ?? new FrameRequest()), cancellationToken);

    /// <summary>Samples the source frames <paramref name="indices"/> (from <see cref="ChooseIndices"/>, or some of them) of a probed file.</summary>
    public async Task<SampledFrames> SampleAsync(string path, VideoInfo info, int[] indices, CancellationToken cancellationToken = default)
    {
        var size = Options.FrameSize;
        long frameBytes = (long)size * size * 3;
        var frames = new RgbFrames(indices.Length, size, new byte[indices.Length * frameBytes]);   // [N, S, S, 3]
        long position = 0;
        var decoded = await DecodeAsync(Path.GetFullPath(path), info, indices, (frame, copies) =>
        {
            for (int c = 0; c < copies; c++) frame.Span.CopyTo(frames.Data.AsSpan((int)(position++ * frameBytes), (int)frameBytes));
            return ValueTask.CompletedTask;
        }, cancellationToken);
        return new SampledFrames(frames, indices, info, decoded);
    }

    /// <summary>Samples the frames <paramref name="indices"/> (from <see cref="ChooseIndices"/>) of a probed file as a
    /// stream: chunks of up to <paramref name="chunkFrames"/> frames [n, S, S, 3] in sampling order go to
    /// <paramref name="writer"/> as they are decoded, waiting while it is full (so memory holds a few chunks, and the
    /// decode timeout counts only the time spent decoding). Completes the writer, with the error when sampling fails;
    /// returns the distinct frames decoded. <paramref name="buffers"/> gives each chunk's bytes (e.g. buffers the
    /// reader is done with); by default new ones.</summary>
    public async Task<int> StreamAsync(string path, VideoInfo info, int[] indices, ChannelWriter<RgbFrames> writer, int chunkFrames,
        CancellationToken cancellationToken = default, Func<int, byte[]>? buffers = null)
    {
        try
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(chunkFrames, 1);
            var size = Options.FrameSize;
            int frameBytes = size * size * 3, written = 0, inChunk = 0;
            byte[]? chunk = null;
            var decoded = await DecodeAsync(Path.GetFullPath(path), info, indices, async (frame, copies) =>
            {
                for (int c = 0; c < copies; c++)
                {
                    chunk ??= buffers?.Invoke(Math.Min(chunkFrames, indices.Length - written) * frameBytes) ?? new byte[(long)Math.Min(chunkFrames, indices.Length - written) * frameBytes];
                    frame.Span.CopyTo(chunk.AsSpan(inChunk++ * frameBytes, frameBytes));
                    if ((long)inChunk * frameBytes < chunk.LongLength) continue;
                    await writer.WriteAsync(new RgbFrames(inChunk, size, chunk), cancellationToken);
                    (written, inChunk, chunk) = (written + inChunk, 0, null);
                }
            }, cancellationToken);
            writer.TryComplete();
            return decoded;
        }
        catch (Exception e)
        {
            writer.TryComplete(e);
            throw;
        }
    }

    /// <summary>The source frame index of every frame a request samples from a probed video, in sampling order
    /// (what frame times are derived from).</summary>
    /// <exception cref="VideoIngestException">InvalidFrameRequest: a count beyond the limits, fps ≤ 0, a bad range,
    /// or a range that holds no frame of the video.</exception>
    public int[] ChooseIndices(VideoInfo info, FrameRequest request)
    {
        var count = request.Count ?? Options.DefaultFrames;
        if (count < 1 || count > Options.MaxFrames)
            throw new VideoIngestException(VideoErrorKind.InvalidFrameRequest,
                $"{count} frames requested; between 1 and {Options.MaxFrames} are allowed");
        if (request.FramesPerSecond is { } fps && (!double.IsFinite(fps) || fps <= 0))
            throw new VideoIngestException(VideoErrorKind.InvalidFrameRequest, $"frames per second must be positive, got {fps}");
        if (request.Start is { } start && (!double.IsFinite(start) || start < 0))
            throw new VideoIngestException(VideoErrorKind.InvalidFrameRequest, $"the range must start at 0 s or later, got {start}");
        if (request.End is { } end && (!double.IsFinite(end) || end <= (request.Start ?? 0)))
            throw new VideoIngestException(VideoErrorKind.InvalidFrameRequest, $"the range must end after its start, got {end}");
        return FrameSelection.Choose(info.FrameCount, info.FrameRate, count, request.FramesPerSecond, request.Start, request.End)
            ?? throw new VideoIngestException(VideoErrorKind.InvalidFrameRequest,
                FormattableString.Invariant($"no frame of the video lies in the range {request.Start ?? 0}–{(request.End is { } e ? e.ToString(CultureInfo.InvariantCulture) : "end")} s"));
    }

    /// <summary>Decodes the chosen frames in sampling order and hands each resized frame to <paramref name="emit"/>
    /// with the number of positions it fills (a short video repeats frames); a damaged tail repeats the last good
    /// frame. The timeout counts the decoding only, not the time <paramref name="emit"/> waits.</summary>
    private async Task<int> DecodeAsync(string path, VideoInfo info, int[] indices, Func<ReadOnlyMemory<byte>, int, ValueTask> emit,
        CancellationToken cancellationToken)
    {
        for (int i = 1; i < indices.Length; i++)
            if (indices[i] < indices[i - 1]) throw new ArgumentException("frame indices must not decrease (sampling order is decoding order)", nameof(indices));
        var wanted = indices.Distinct().ToArray();
        var copies = wanted.Select(w => indices.Count(i => i == w)).ToArray();
        var size = Options.FrameSize;
        var nativeBytes = NativeFrameBytes(info);
        var resize = new PilBicubicResize(info.Width, info.Height, size, size);
        var budget = TimeSpan.FromSeconds(Options.DecodeTimeoutSeconds);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(budget);
        var decoding = System.Diagnostics.Stopwatch.StartNew();
        await using var ffmpeg = FfmpegProcess.Start(Options.FfmpegExecutable, DecodeArguments(path, info, wanted));
        // Killing ffmpeg ends the stdout read, which is how a timeout or a cancellation stops the loop.
        using var stop = timeout.Token.Register(ffmpeg.Kill);

        var native = new byte[nativeBytes];   // one frame at the video's own size, reused
        var resized = new byte[size * size * 3];
        var got = 0;
        while (got < wanted.Length)
        {
            var read = await ffmpeg.StandardOutput.ReadAtLeastAsync(native, nativeBytes, throwOnEndOfStream: false, CancellationToken.None);
            if (read < nativeBytes || timeout.IsCancellationRequested) break;
            resize.Resize(native, resized);
            // The consumer's pace is not decoding time: the timeout is held while the frame is handed over.
            decoding.Stop();
            timeout.CancelAfter(Timeout.InfiniteTimeSpan);
            await emit(resized, copies[got]);
            decoding.Start();
            var left = budget - decoding.Elapsed;
            if (left <= TimeSpan.Zero) timeout.Cancel();
            else timeout.CancelAfter(left);
            got++;
        }
        if (got == wanted.Length) ffmpeg.Kill(); // the rest of the video is not needed
        else await ffmpeg.WaitForExitAsync(CancellationToken.None);

        cancellationToken.ThrowIfCancellationRequested();
        if (timeout.IsCancellationRequested)
            throw new VideoIngestException(VideoErrorKind.Timeout, $"decoding did not finish within {Options.DecodeTimeoutSeconds} s");
        if (got == 0)
            throw new VideoIngestException(VideoErrorKind.Undecodable, "no frame could be decoded: " + Describe(ffmpeg.StderrTail.Replace(path, "input", StringComparison.Ordinal)));

        // A damaged tail: the last good frame stands in for the missing ones.
        for (int k = got; k < wanted.Length; k++) await emit(resized, copies[k]);
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
        var select = SelectExpression(wanted.Select(i => string.Create(CultureInfo.InvariantCulture, $"eq(n,{i})")).ToArray());
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

    /// <summary>The terms summed as a balanced tree of parenthesised groups: ffmpeg's expression parser refuses a flat
    /// sum of a few hundred terms (a long video's frame list), but not a nesting of depth log2(terms / 8).</summary>
    internal static string SelectExpression(ReadOnlySpan<string> terms) => terms.Length <= 8
        ? string.Join('+', terms.ToArray())
        : $"({SelectExpression(terms[..(terms.Length / 2)])})+({SelectExpression(terms[(terms.Length / 2)..])})";

    private static string Describe(string stderr) => stderr.Length == 0 ? "ffmpeg gave no details" : stderr.Length > 400 ? stderr[..400] : stderr;
}
