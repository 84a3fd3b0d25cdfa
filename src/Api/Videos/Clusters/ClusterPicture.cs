using SkiaSharp;
using VQToken.Engine.Compression;
using VQToken.Engine.Runtime;
using VQToken.Ingestion;

namespace VQToken.Api.Videos.Clusters;

/// <summary>Draws a video's index map (paper Fig. 2): a grid of its T sampled frames, each ViT grid cell
/// tinted with the colour of the codebook entry it was assigned to, with a line where neighbouring cells
/// belong to different clusters. Without the frames (source evicted) the cells are drawn opaque on their
/// own. Managed bytes in, PNG bytes out: no TorchSharp.</summary>
public static class ClusterPicture
{
    /// <summary>Pixels per grid cell: a 27×27 grid becomes a 216×216 tile.</summary>
    public const int CellPixels = 8;
    /// <summary>Space between tiles and around the grid.</summary>
    public const int Gap = 4;
    public const int MaxColumns = 8;
    /// <summary>Opacity of the cluster colour over a frame.</summary>
    public const byte TintAlpha = 140;
    public static readonly SKColor Background = new(0x20, 0x20, 0x20);

    public static int Columns(int frames) => Math.Clamp(frames, 1, MaxColumns);
    public static int Rows(int frames) => Math.Max(1, (frames + MaxColumns - 1) / MaxColumns);

    /// <summary>Top-left pixel of frame <paramref name="t"/>'s tile.</summary>
    public static SKPointI TileOrigin(int t, int gridHeight, int gridWidth) => new(
        Gap + t % MaxColumns * (gridWidth * CellPixels + Gap),
        Gap + t / MaxColumns * (gridHeight * CellPixels + Gap));

    /// <summary>PNG of <paramref name="entry"/>'s index map [T, H, W] over <paramref name="frames"/>
    /// ([T, S, S, 3] RGB, the frames the index map was computed from), or the cells alone when null.</summary>
    public static byte[] Render(CompressedVideo entry, RgbFrames? frames)
    {
        int t = entry.Frames, h = entry.Grid, w = entry.Grid;
        if (frames is not null && frames.Count != t)
            throw new ArgumentException($"{frames.Count} frames for an index map of {t}", nameof(frames));
        int width = Columns(t) * (w * CellPixels + Gap) + Gap;
        int height = Rows(t) * (h * CellPixels + Gap) + Gap;
        var colours = Enumerable.Range(0, Math.Max(1, entry.K)).Select(ClusterPalette.Color).ToArray();

        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(Background);
            for (int frame = 0; frame < t; frame++)
            {
                var origin = TileOrigin(frame, h, w);
                var tile = SKRect.Create(origin.X, origin.Y, w * CellPixels, h * CellPixels);
                if (frames is null) DrawCells(canvas, entry.IndexMapValues, frame, h, w, origin, colours, alpha: 255);
                else
                {
                    DrawFrame(canvas, frames, frame, tile);
                    DrawCells(canvas, entry.IndexMapValues, frame, h, w, origin, colours, TintAlpha);
                    DrawBoundaries(canvas, entry.IndexMapValues, frame, h, w, origin);
                }
            }
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
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

    private static void DrawCells(SKCanvas canvas, ReadOnlySpan<short> indexMap, int frame, int h, int w, SKPointI origin, SKColor[] colours, byte alpha)
    {
        using var paint = new SKPaint { IsAntialias = false, Style = SKPaintStyle.Fill };
        int plane = frame * h * w;
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                paint.Color = colours[indexMap[plane + y * w + x]].WithAlpha(alpha);
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
