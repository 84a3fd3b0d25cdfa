namespace VQToken.Ingestion;

/// <summary>Which frame indices to sample, exactly as the official LLaVA-OneVision video loader picks them.</summary>
public static class FrameSelection
{
    /// <summary>`np.linspace(0, totalFrames - 1, count, dtype=int)`: float64 steps, floored, last index exact.
    /// A video shorter than <paramref name="count"/> frames repeats indices (e.g. 3 frames, 5 samples:
    /// 0,0,1,1,2), so the tensor always has <paramref name="count"/> frames.</summary>
    public static int[] Uniform(long totalFrames, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(totalFrames, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var indices = new int[count];
        if (count == 1) return indices; // numpy: a single sample is the start
        double stop = totalFrames - 1;
        double step = stop / (count - 1);
        for (int i = 0; i < count; i++) indices[i] = (int)Math.Floor(i * step);
        indices[^1] = (int)stop;
        return indices;
    }

    /// <summary>Sampling at <paramref name="samplesPerSecond"/>: every round(videoFps / samplesPerSecond)-th
    /// frame; when that gives more than <paramref name="maxFrames"/>, falls back to
    /// <see cref="Uniform"/> with <paramref name="maxFrames"/> (the loader of lmms-eval's llava_onevision).</summary>
    public static int[] ByRate(long totalFrames, double videoFps, double samplesPerSecond, int maxFrames)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(totalFrames, 1);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(samplesPerSecond);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxFrames, 1);
        // Python's round() rounds half to even, as Math.Round does by default.
        var stride = Math.Max(1L, (long)Math.Round(videoFps / samplesPerSecond));
        var count = (totalFrames + stride - 1) / stride;
        if (count > maxFrames) return Uniform(totalFrames, maxFrames);
        var indices = new int[count];
        for (int i = 0; i < count; i++) indices[i] = (int)(i * stride);
        return indices;
    }

    /// <summary>Each sampled frame's time in the source, in seconds (rounded to the millisecond): source frame index /
    /// the video's average frame rate, as the official loader's <c>frame_idx / vr.get_avg_fps()</c>.</summary>
    public static double[] Times(IReadOnlyList<int> indices, double frameRate)
    {
        ArgumentNullException.ThrowIfNull(indices);
        if (!double.IsFinite(frameRate) || frameRate <= 0) throw new ArgumentOutOfRangeException(nameof(frameRate), frameRate, "the frame rate must be positive");
        var times = new double[indices.Count];
        for (int i = 0; i < times.Length; i++) times[i] = Math.Round(indices[i] / frameRate, 3);
        return times;
    }

    /// <summary>Source frames [First, First + Count) whose times (index / <paramref name="videoFps"/>) lie in
    /// [<paramref name="start"/>, <paramref name="end"/>) seconds (null: from the first / to the last frame);
    /// Count is 0 when no frame does.</summary>
    public static (long First, long Count) Range(long totalFrames, double videoFps, double? start, double? end)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(totalFrames, 1);
        if (start is null && end is null) return (0, totalFrames);
        if (!double.IsFinite(videoFps) || videoFps <= 0) throw new ArgumentOutOfRangeException(nameof(videoFps), "a time range needs the video's frame rate");
        // Frame i is in the range when start <= i / fps < end; the epsilon keeps 10 s at 30 fps on frame 300.
        long First(double seconds) => Math.Clamp((long)Math.Ceiling(seconds * videoFps - 1e-9), 0, totalFrames);
        long first = start is { } s ? First(s) : 0;
        long last = end is { } e ? First(e) : totalFrames;
        return (first, Math.Max(0, last - first));
    }

    /// <summary>The source frame indices of a request: <see cref="Uniform"/> or <see cref="ByRate"/> over the
    /// frames of its time range (<see cref="Range"/>), shifted to source frame numbers. Null when the range holds no frame.</summary>
    public static int[]? Choose(long totalFrames, double videoFps, int count, double? samplesPerSecond, double? start, double? end)
    {
        var (first, frames) = Range(totalFrames, videoFps, start, end);
        if (frames == 0) return null;
        var indices = samplesPerSecond is { } rate ? ByRate(frames, videoFps, rate, count) : Uniform(frames, count);
        for (int i = 0; i < indices.Length; i++) indices[i] += (int)first;
        return indices;
    }
}
