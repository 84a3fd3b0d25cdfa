using System.Globalization;
using SkiaSharp;
using VQToken.Engine.Compression;
using VQToken.Ingestion;

namespace VQToken.Api.Videos.Clusters;

/// <summary>Draws the T sampled frames of a video as a grid of tiles, each ViT grid cell tinted, with a caption
/// under every tile (the frame's time in the source, or its number): the index map (paper Fig. 2: each cell in
/// the colour of its cluster, a line between cells of different clusters) or an answer's evidence (a heat
/// overlay). Without the frames (source evicted) the cells are drawn opaque on their own. Managed bytes in,
/// PNG bytes out: no TorchSharp.</summary>
public static class ClusterPicture
{
    /// <summary>Pixels per grid cell: a 27×27 grid becomes a 216×216 tile.</summary>
    public const int CellPixels = 8;
    /// <summary>Space between tiles and around the grid.</summary>
    public const int Gap = 4;
    /// <summary>Height of the caption strip under each tile.</summary>
    public const int CaptionHeight = 14;
    public const int MaxColumns = 8;
    /// <summary>Most tiles one picture draws: a long video's picture shows a choice of its frames, so its size and
    /// the frames decoded for it stay bounded whatever the frame count.</summary>
    public const int MaxTiles = 64;
    /// <summary>Opacity of the cluster colour over a frame.</summary>
    public const byte TintAlpha = 140;
    /// <summary>Opacity of the hottest evidence cell over a frame (cells without attention stay clear).</summary>
    public const byte HeatAlpha = 200;
    public static readonly SKColor Background = new(0x20, 0x20, 0x20);

    public static int Columns(int frames) => Math.Clamp(frames, 1, MaxColumns);
    public static int Rows(int frames) => Math.Max(1, (frames + MaxColumns - 1) / MaxColumns);

    /// <summary>Top-left pixel of frame <paramref name="t"/>'s tile.</summary>
    public static SKPointI TileOrigin(int t, int gridHeight, int gridWidth) => new(
        Gap + t % MaxColumns * (gridWidth * CellPixels + Gap),
        Gap + t / MaxColumns * (gridHeight * CellPixels + CaptionHeight + Gap));

    /// <summary>PNG of <paramref name="entry"/>'s index map [T, H, W] over <paramref name="frames"/>
    /// ([T, S, S, 3] RGB, the frames the index map was computed from), or the cells alone when null; captions
    /// give <paramref name="frameTimes"/> (seconds) when known.</summary>
    /// <remarks><paramref name="frames"/> holds the <see cref="Shown"/> frames only.</remarks>
    public static byte[] Render(CompressedVideo entry, RgbFrames? frames, IReadOnlyList<double>? frameTimes = null)
    {
        var colours = Enumerable.Range(0, Math.Max(1, entry.K)).Select(ClusterPalette.Color).ToArray();
        var indexMap = entry.IndexMapValues.ToArray();
        return Draw(Shown(entry.Frames), entry.Grid, frames, t => Caption(t, frameTimes, null),
            (canvas, t, origin, alpha) =>
            {
                DrawCells(canvas, entry.Grid, origin, c => colours[indexMap[t * entry.Grid * entry.Grid + c]].WithAlpha(alpha ?? TintAlpha));
                if (alpha is null) DrawBoundaries(canvas, indexMap, t, entry.Grid, entry.Grid, origin);
            });
    }

    /// <summary>PNG of an answer's evidence: <paramref name="cellScores"/> [T·g·g] as heat over the frames (or alone),
    /// scaled to the hottest cell; each caption gives the frame's time and its share of the frames' total score.
    /// <paramref name="frames"/> holds the <see cref="Hottest"/> frames only.</summary>
    public static byte[] RenderHeat(ReadOnlySpan<float> cellScores, int frameCount, int grid, RgbFrames? frames, IReadOnlyList<double>? frameTimes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(frameCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(grid, 1);
        int plane = grid * grid;
        if (cellScores.Length != frameCount * plane) throw new ArgumentException($"{cellScores.Length} cell scores for {frameCount} frames of {grid}x{grid}", nameof(cellScores));
        var scores = cellScores.ToArray();
        double max = scores.Max(), total = scores.Sum(s => (double)s);
        var shares = FrameShares(scores, frameCount, plane, total);
        return Draw(HottestOf(shares), grid, frames, t => Caption(t, frameTimes, shares[t]),
            (canvas, t, origin, alpha) => DrawCells(canvas, grid, origin, c =>
            {
                double heat = max > 0 ? Math.Clamp(scores[t * plane + c] / max, 0, 1) : 0;
                return Heat(heat).WithAlpha(alpha ?? (byte)Math.Round(HeatAlpha * Math.Sqrt(heat)));
            }));
    }

    /// <summary>The frames a cluster picture of <paramref name="frameCount"/> frames draws: all, or
    /// <see cref="MaxTiles"/> spread evenly (first and last included).</summary>
    public static int[] Shown(int frameCount) =>
        frameCount <= MaxTiles ? Enumerable.Range(0, frameCount).ToArray() : FrameSelection.Uniform(frameCount, MaxTiles);

    /// <summary>The frames an evidence picture draws: all, or the <see cref="MaxTiles"/> with the most evidence, in time order.</summary>
    public static int[] Hottest(ReadOnlySpan<float> cellScores, int frameCount, int grid) =>
        frameCount <= MaxTiles ? Enumerable.Range(0, frameCount).ToArray() : HottestOf(FrameShares(cellScores.ToArray(), frameCount, grid * grid, 1));

    private static int[] HottestOf(double[] shares) => shares.Length <= MaxTiles
        ? Enumerable.Range(0, shares.Length).ToArray()
        : Enumerable.Range(0, shares.Length).OrderByDescending(t => shares[t]).ThenBy(t => t).Take(MaxTiles).Order().ToArray();

    private static double[] FrameShares(float[] scores, int frameCount, int plane, double total) => Enumerable.Range(0, frameCount)
        .Select(t => total > 0 ? new ArraySegment<float>(scores, t * plane, plane).Sum(s => (double)s) / total : 0).ToArray();

    /// <summary>The heat colour of <paramref name="heat"/> in [0, 1]: dark blue through red to yellow.</summary>
    public static SKColor Heat(double heat)
    {
        heat = Math.Clamp(heat, 0, 1);
        return SKColor.FromHsv((float)(240 + 180 * heat) % 360, 100, (float)(35 + 65 * Math.Min(1, heat * 2)));
    }

    /// <summary>The tile grid: frames (or the background), the cells drawn by <paramref name="cells"/> (its alpha
    /// argument is 255 for cells alone, null over a frame), the captions.</summary>
    private static byte[] Draw(int[] shown, int g, RgbFrames? frames, Func<int, string> caption, Action<SKCanvas, int, SKPointI, byte?> cells)
    {
        if (frames is not null && frames.Count != shown.Length)
            throw new ArgumentException($"{frames.Count} frames for a picture of {shown.Length}", nameof(frames));
        int width = Columns(shown.Length) * (g * CellPixels + Gap) + Gap;
        int height = Rows(shown.Length) * (g * CellPixels + CaptionHeight + Gap) + Gap;
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(Background);
            for (int tile = 0; tile < shown.Length; tile++)
            {
                var origin = TileOrigin(tile, g, g);
                int frame = shown[tile];
                if (frames is null) cells(canvas, frame, origin, 255);
                else
                {
                    DrawFrame(canvas, frames, tile, SKRect.Create(origin.X, origin.Y, g * CellPixels, g * CellPixels));
                    cells(canvas, frame, origin, null);
                }
                PixelFont.Draw(canvas, caption(frame), origin.X + 1, origin.Y + g * CellPixels + (CaptionHeight - PixelFont.Height) / 2, g * CellPixels - 2);
            }
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }

    /// <summary>"12.5s" (or "#3" without times), then the frame's share of the evidence, e.g. "12.5s 31%".</summary>
    public static string Caption(int frame, IReadOnlyList<double>? frameTimes, double? share)
    {
        var when = frameTimes is { } times && frame < times.Count
            ? times[frame].ToString("0.##", CultureInfo.InvariantCulture) + "s"
            : "#" + (frame + 1).ToString(CultureInfo.InvariantCulture);
        return share is { } s ? $"{when} {Math.Round(100 * s).ToString(CultureInfo.InvariantCulture)}%" : when;
    }

    private static void DrawFrame(SKCanvas canvas, RgbFrames frames, int frame, SKRect tile)
    {
        int size = frames.Size;
        var rgba = new byte[size * size * 4];   // [S, S, 4] from the [S, S, 3] RGB frame
        long from = (long)frame * size * size * 3;
        for (int p = 0; p < size * size; p++)
        {
            rgba[p * 4] = frames.Data[from + p * 3];
            rgba[p * 4 + 1] = frames.Data[from + p * 3 + 1];
            rgba[p * 4 + 2] = frames.Data[from + p * 3 + 2];
            rgba[p * 4 + 3] = 255;
        }
        using var image = SKImage.FromPixelCopy(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Opaque), rgba);
        using var paint = new SKPaint { FilterQuality = SKFilterQuality.High };
        canvas.DrawImage(image, tile, paint);
    }

    /// <summary>Fills every cell of one g×g tile with <paramref name="colour"/>(cell index in the tile).</summary>
    private static void DrawCells(SKCanvas canvas, int g, SKPointI origin, Func<int, SKColor> colour)
    {
        using var paint = new SKPaint { IsAntialias = false, Style = SKPaintStyle.Fill };
        for (int y = 0; y < g; y++)
        {
            for (int x = 0; x < g; x++)
            {
                paint.Color = colour(y * g + x);
                canvas.DrawRect(SKRect.Create(origin.X + x * CellPixels, origin.Y + y * CellPixels, CellPixels, CellPixels), paint);
            }
        }
    }

    /// <summary>A one-pixel dark line on the shared edge of neighbouring cells of different clusters.</summary>
    private static void DrawBoundaries(SKCanvas canvas, ReadOnlySpan<short> indexMap, int frame, int h, int w, SKPointI origin)
    {
        using var paint = new SKPaint { IsAntialias = false, Style = SKPaintStyle.Fill, Color = new SKColor(0, 0, 0, 160) };
        int plane = frame * h * w;
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                int id = indexMap[plane + y * w + x];
                float left = origin.X + x * CellPixels, top = origin.Y + y * CellPixels;
                if (x + 1 < w && indexMap[plane + y * w + x + 1] != id) canvas.DrawRect(SKRect.Create(left + CellPixels - 1, top, 1, CellPixels), paint);
                if (y + 1 < h && indexMap[plane + (y + 1) * w + x] != id) canvas.DrawRect(SKRect.Create(left, top + CellPixels - 1, CellPixels, 1), paint);
            }
        }
    }
}

/// <summary>A 3×5 pixel font (drawn 2× as squares) for the captions: digits and ". s # %", so captions need no
/// system font (the slim SkiaSharp build on Linux has none to fall back on).</summary>
internal static class PixelFont
{
    private const int Scale = 2;
    public const int Height = 5 * Scale;
    public static readonly SKColor Ink = new(0xEE, 0xEE, 0xEE);

    private static readonly Dictionary<char, string[]> Glyphs = new()
    {
        ['0'] = ["###", "#.#", "#.#", "#.#", "###"], ['1'] = [".#.", "##.", ".#.", ".#.", "###"],
        ['2'] = ["###", "..#", "###", "#..", "###"], ['3'] = ["###", "..#", ".##", "..#", "###"],
        ['4'] = ["#.#", "#.#", "###", "..#", "..#"], ['5'] = ["###", "#..", "###", "..#", "###"],
        ['6'] = ["###", "#..", "###", "#.#", "###"], ['7'] = ["###", "..#", ".#.", ".#.", ".#."],
        ['8'] = ["###", "#.#", "###", "#.#", "###"], ['9'] = ["###", "#.#", "###", "..#", "###"],
        ['.'] = ["...", "...", "...", "...", ".#."], ['s'] = ["...", ".##", "#..", "..#", "##."],
        ['#'] = ["#.#", "###", "#.#", "###", "#.#"], ['%'] = ["#.#", "..#", ".#.", "#..", "#.#"],
        [' '] = ["...", "...", "...", "...", "..."],
    };

    /// <summary>Draws <paramref name="text"/> from (x, y) (top-left), clipped to <paramref name="maxWidth"/> pixels.</summary>
    public static void Draw(SKCanvas canvas, string text, int x, int y, int maxWidth)
    {
        using var paint = new SKPaint { IsAntialias = false, Style = SKPaintStyle.Fill, Color = Ink };
        int pen = 0;
        foreach (var ch in text)
        {
            if (!Glyphs.TryGetValue(ch, out var glyph)) continue;
            if (pen + 3 * Scale > maxWidth) return;
            for (int row = 0; row < glyph.Length; row++)
                for (int col = 0; col < 3; col++)
                    if (glyph[row][col] == '#') canvas.DrawRect(SKRect.Create(x + pen + col * Scale, y + row * Scale, Scale, Scale), paint);
            pen += 4 * Scale;
        }
    }
}
