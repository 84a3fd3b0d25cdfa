namespace VQToken.Engine.Output;

/// <summary>One sampled frame's share of the attention the answer paid to the video.</summary>
/// <param name="Frame">Position in the sampled frames (0-based).</param>
/// <param name="TimeSeconds">Its time in the source video, when known.</param>
/// <param name="Score">Visual attention mass mapped onto the frame's cells (frame scores sum to the mass of
/// the visual rows that have a footprint, i.e. all but image_newline).</param>
public sealed record FrameEvidence(int Frame, double? TimeSeconds, double Score);

/// <summary>One visual row the LLM read: its attention mass and how many grid cells it stands for.</summary>
public sealed record VisualTokenEvidence(int Row, double Mass, int Cells);

/// <summary>Where in the video an answer looked. <see cref="CellScores"/> [T·g·g] feeds the heat picture.</summary>
public sealed record AnswerEvidence(double VisualShare, IReadOnlyList<FrameEvidence> Frames, IReadOnlyList<VisualTokenEvidence> Tokens, double[] CellScores, int Grid);

/// <summary>
/// Maps the attention mass of each visual row back onto the video's (frame, row, column) cells, each token
/// path by its own rule:
/// <list type="bullet">
/// <item>codebook: row j is cluster j; its mass is spread evenly over the cells the index map gives it;</item>
/// <item>attention (VQ-Attention): row i is the query built from frame i mod T (the official code tiles the
/// index rows to K rows when T &lt; K; with T ≥ K row t is frame t), so its mass spreads over that frame;</item>
/// <item>full tokens: row t·p² + i·p + j is frame t's pooled cell (i, j), which bilinear 2x pooling takes
/// from the source cells around ((i + ½)·g/p − ½, (j + ½)·g/p − ½): its mass spreads over those cells.</item>
/// </list>
/// The last visual row (image_newline) and empty clusters have no footprint. Pure arithmetic, no TorchSharp.
/// </summary>
public static class EvidenceMap
{
    /// <summary>Maps measured visual attention by the encoding's token path (frame times are not stored yet).</summary>
    /// <param name="poolStride">Full mode: the spatial pooling stride (the checkpoint's mm_spatial_pool_stride).</param>
    public static AnswerEvidence For(Runtime.VideoEncoding encoding, VisualAttention attention, int poolStride)
    {
        var masses = attention.RowMass.ToArray();
        if (encoding.Mode == Compression.CompressionMode.Full)
        {
            int perFrame = encoding.Frames == 0 ? 0 : encoding.OriginalTokens / encoding.Frames, grid = (int)Math.Round(Math.Sqrt(perFrame));
            if (grid * grid != perFrame) throw new ArgumentException($"{perFrame} tokens per frame make no square grid");
            return Full(masses, encoding.Frames, grid, attention.VisualShare, null, poolStride);
        }
        var c = encoding.Compressed ?? throw new ArgumentException("VQToken encoding without codebook");
        return c.TokenPath == Compression.TokenPath.Codebook
            ? Codebook(masses, c.IndexMapValues, c.Frames, c.Grid, c.K, attention.VisualShare)
            : Attention(masses, c.Frames, c.Grid, c.K, attention.VisualShare);
    }

    /// <param name="masses">Attention mass per visual row, newline last: [K + 1].</param>
    /// <param name="indexMap">Cluster id per cell, [T·g·g].</param>
    public static AnswerEvidence Codebook(ReadOnlySpan<double> masses, ReadOnlySpan<short> indexMap, int frames, int grid, int k,
        double visualShare, IReadOnlyList<double>? frameTimes = null)
    {
        Check(masses.Length, k + 1, frames, grid);
        if (indexMap.Length != frames * grid * grid) throw new ArgumentException($"index map holds {indexMap.Length} ids, expected {frames} x {grid} x {grid}");
        var sizes = new int[k];
        foreach (var id in indexMap)
        {
            if (id < 0 || id >= k) throw new ArgumentException($"index map id {id} outside [0, {k})");
            sizes[id]++;
        }
        var cells = new double[indexMap.Length];
        for (int c = 0; c < cells.Length; c++) cells[c] = masses[indexMap[c]] / sizes[indexMap[c]];
        var tokens = new List<VisualTokenEvidence>(k);
        for (int j = 0; j < k; j++) tokens.Add(new VisualTokenEvidence(j, masses[j], sizes[j]));
        return Result(cells, frames, grid, tokens, visualShare, frameTimes);
    }

    /// <param name="masses">Attention mass per visual row, newline last: [max(T, K) + 1].</param>
    public static AnswerEvidence Attention(ReadOnlySpan<double> masses, int frames, int grid, int k, double visualShare, IReadOnlyList<double>? frameTimes = null)
    {
        int rows = Math.Max(frames, k);
        Check(masses.Length, rows + 1, frames, grid);
        int perFrame = grid * grid;
        var cells = new double[frames * perFrame];
        var tokens = new List<VisualTokenEvidence>(rows);
        for (int i = 0; i < rows; i++)
        {
            int frame = i % frames;
            for (int c = 0; c < perFrame; c++) cells[frame * perFrame + c] += masses[i] / perFrame;
            tokens.Add(new VisualTokenEvidence(i, masses[i], perFrame));
        }
        return Result(cells, frames, grid, tokens, visualShare, frameTimes);
    }

    /// <param name="masses">Attention mass per visual row, newline last: [T·p² + 1], p = ceil(g / stride).</param>
    public static AnswerEvidence Full(ReadOnlySpan<double> masses, int frames, int grid, double visualShare, IReadOnlyList<double>? frameTimes = null, int stride = 2)
    {
        int pooled = (grid + stride - 1) / stride;
        Check(masses.Length, frames * pooled * pooled + 1, frames, grid);
        int perFrame = grid * grid;
        var cells = new double[frames * perFrame];
        var tokens = new List<VisualTokenEvidence>(frames * pooled * pooled);
        for (int t = 0; t < frames; t++)
            for (int i = 0; i < pooled; i++)
                for (int j = 0; j < pooled; j++)
                {
                    int row = (t * pooled + i) * pooled + j;
                    var ys = Sources(i, grid, pooled);
                    var xs = Sources(j, grid, pooled);
                    double share = masses[row] / (ys.Length * xs.Length);
                    foreach (var y in ys)
                        foreach (var x in xs)
                            cells[t * perFrame + y * grid + x] += share;
                    tokens.Add(new VisualTokenEvidence(row, masses[row], ys.Length * xs.Length));
                }
        return Result(cells, frames, grid, tokens, visualShare, frameTimes);
    }

    /// <summary>The source cells bilinear resizing (align_corners = false) reads for output cell <paramref name="i"/>.</summary>
    internal static int[] Sources(int i, int grid, int pooled)
    {
        double source = Math.Max(0, (i + 0.5) * grid / pooled - 0.5);
        int low = Math.Min((int)Math.Floor(source), grid - 1), high = Math.Min(low + 1, grid - 1);
        return low == high ? [low] : [low, high];
    }

    private static void Check(int got, int expected, int frames, int grid)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(frames, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(grid, 1);
        if (got != expected) throw new ArgumentException($"{got} visual-row masses, expected {expected}");
    }

    private static AnswerEvidence Result(double[] cells, int frames, int grid, List<VisualTokenEvidence> tokens,
        double visualShare, IReadOnlyList<double>? frameTimes)
    {
        if (frameTimes is not null && frameTimes.Count != frames) throw new ArgumentException($"{frameTimes.Count} frame times for {frames} frames");
        int perFrame = grid * grid;
        var scores = Enumerable.Range(0, frames)
            .Select(t => new FrameEvidence(t, frameTimes?[t], new ArraySegment<double>(cells, t * perFrame, perFrame).Sum()))
            .OrderByDescending(f => f.Score).ThenBy(f => f.Frame).ToList();
        return new AnswerEvidence(visualShare, scores, tokens, cells, grid);
    }
}
