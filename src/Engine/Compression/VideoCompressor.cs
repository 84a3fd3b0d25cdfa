using System.Runtime.CompilerServices;
using TorchSharp;
using static TorchSharp.torch;

namespace VQToken.Engine.Compression;

/// <summary>
/// The VQToken discrete process for one video: projected, unpooled frame tokens [T, P, D] →
/// L2-normalised rows → K-means (fixed K or adaptive K) → codebook B [K, D] + index map M [T, g, g].
/// </summary>
public static class VideoCompressor
{
    /// <summary>Compresses one video's projected tokens [T, P, D] (P = g·g, any float dtype).</summary>
    public static CompressedVideo Compress(Tensor projected, CompressionSettings settings) => Compress(projected, settings, out _);

    /// <summary>As <see cref="Compress(Tensor, CompressionSettings)"/>; <paramref name="curve"/> receives the
    /// adaptive mode's distortion curve (one value per K, Kmin first; null in fixed mode).</summary>
    public static CompressedVideo Compress(Tensor projected, CompressionSettings settings, out IReadOnlyList<double>? curve)
    {
        using var job = Start(projected, settings);
        while (!job.Advance()) { }
        curve = job.Curve;
        return job.Result!;
    }

    /// <summary>Starts a compression that runs one bounded slice per <see cref="CompressionJob.Advance"/>
    /// (the engine interleaves them with decode steps). Reads <paramref name="projected"/> only here.</summary>
    public static CompressionJob Start(Tensor projected, CompressionSettings settings)
    {
        var (frames, grid) = Check(projected, settings);
        Tensor rows;
        using (NewDisposeScope()) rows = KMeans.NormalizeRows(Codebook.Flatten(projected)).DetachFromDisposeScope(); // [N, D]
        return Begin(rows, frames, grid, settings);
    }

    /// <summary>As <see cref="Start"/>, taking ownership of a contiguous float32 <paramref name="projected"/> (in no
    /// dispose scope) and normalising its rows in place, so a long video's features are never held twice. The same
    /// rows as <see cref="KMeans.NormalizeRows"/> (x / max(|x|, eps)).</summary>
    public static CompressionJob StartOwning(Tensor projected, CompressionSettings settings)
    {
        try
        {
            var (frames, grid) = Check(projected, settings);
            if (projected.dtype != ScalarType.Float32 || !projected.is_contiguous())
                throw new ArgumentException("the features to normalise in place must be contiguous float32", nameof(projected));
            var rows = projected.view(-1, projected.shape[2]).DetachFromDisposeScope();   // [N, D], the same storage
            using (NewDisposeScope()) rows.div_(rows.norm(1, keepdim: true, p: 2).clamp_min(1e-12));
            projected.Dispose();
            return Begin(rows, frames, grid, settings);
        }
        catch
        {
            projected.Dispose();
            throw;
        }
    }

    private static (int Frames, int Grid) Check(Tensor projected, CompressionSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Mode == CompressionMode.Full)
            throw new ArgumentException("mode 'full' keeps all tokens: nothing to compress", nameof(settings));
        settings.EnsureValid();
        if (projected.dim() != 3)
            throw new ArgumentException($"expected projected tokens [T, P, D], got {projected.dim()} dimensions", nameof(projected));
        int frames = (int)projected.shape[0], tokensPerFrame = (int)projected.shape[1];
        int grid = (int)Math.Round(Math.Sqrt(tokensPerFrame));
        if (grid * grid != tokensPerFrame)
            throw new ArgumentException($"{tokensPerFrame} tokens per frame is not a square grid", nameof(projected));
        if (frames * tokensPerFrame == 0)
            throw new ArgumentException("no tokens to compress", nameof(projected));
        return (frames, grid);
    }

    private static CompressionJob Begin(Tensor rows, int frames, int grid, CompressionSettings settings)
    {
        var curve = new StrongBox<IReadOnlyList<double>?>();
        return new CompressionJob(rows, CompressSlices(rows, frames, grid, settings, curve), curve);
    }

    /// <summary>The slices of one compression; <paramref name="rows"/> belongs to the job, not to this.</summary>
    private static IEnumerable<CompressedVideo?> CompressSlices(Tensor rows, int frames, int grid, CompressionSettings settings,
        StrongBox<IReadOnlyList<double>?> curve)
    {
        KMeansFit? fit = null;
        try
        {
            foreach (var slice in ClusterSlices(rows, settings, curve))
            {
                if (slice is null) yield return null;
                else fit = slice.DetachFromDisposeScope();
            }
            CompressedVideo compressed;
            using (NewDisposeScope())
            {
                var (sums, counts) = Codebook.SumsAndCounts(rows, fit!.Labels, fit.K);
                var codebook = Codebook.MeansOf(sums, counts); // [K, D], zero rows for empty clusters
                compressed = CompressedVideo.FromTensors(frames, grid, fit.Labels, codebook, settings);
            }
            yield return compressed;
        }
        finally
        {
            fit?.Dispose();
        }
    }

    /// <summary>Runs the K-means the settings ask for on normalised rows, in slices.</summary>
    internal static IEnumerable<KMeansFit?> ClusterSlices(Tensor rows, CompressionSettings settings, StrongBox<IReadOnlyList<double>?> curve)
    {
        if (settings.Mode == CompressionMode.VQTokenFixed)
        {
            int k = (int)Math.Min(settings.K!.Value, rows.shape[0]);
            var options = new KMeansOptions(settings.MaxIterations, Seed: settings.Seed);
            options.Validate();
            return KMeans.FitSlices(rows, k, options);
        }
        var adaptive = new AdaptiveKOptions(settings.MinK!.Value, settings.MaxK!.Value,
            FinalIterations: settings.MaxIterations, Seed: settings.Seed, Indexing: settings.EffectiveElbow);
        adaptive.Validate();
        return AdaptiveK.FitSlices(rows, adaptive).Select(f =>
        {
            if (f is not null) curve.Value = f.Distortions;
            return f?.Fit;
        });
    }
}
