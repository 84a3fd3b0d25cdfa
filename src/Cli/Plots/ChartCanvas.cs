using SkiaSharp;

namespace VQToken.Cli.Plots;

/// <summary>A white raster canvas with the few drawing calls the report charts need, saved as PNG.</summary>
public sealed class ChartCanvas : IDisposable
{
    private readonly SKBitmap _bitmap;
    private readonly SKCanvas _canvas;

    public ChartCanvas(int width, int height)
    {
        _bitmap = new SKBitmap(width, height);
        _canvas = new SKCanvas(_bitmap);
        _canvas.Clear(SKColors.White);
    }

    public void Text(string text, float x, float y, float size, bool bold = false, SKColor? color = null)
    {
        using var typeface = SKTypeface.FromFamilyName(null, bold ? SKFontStyle.Bold : SKFontStyle.Normal);
        using var paint = new SKPaint { Color = color ?? SKColors.Black, TextSize = size, IsAntialias = true, Typeface = typeface };
        _canvas.DrawText(text, x, y, paint);
    }

    public void Line(float x0, float y0, float x1, float y1, SKColor color, float width)
    {
        using var paint = new SKPaint { Color = color, StrokeWidth = width, IsAntialias = true };
        _canvas.DrawLine(x0, y0, x1, y1, paint);
    }

    public void Rect(float x, float y, float width, float height, SKColor color)
    {
        using var paint = new SKPaint { Color = color, Style = SKPaintStyle.Fill };
        _canvas.DrawRect(x, y, width, height, paint);
    }

    public void Circle(float x, float y, float radius, SKColor color)
    {
        using var paint = new SKPaint { Color = color, Style = SKPaintStyle.Fill, IsAntialias = true };
        _canvas.DrawCircle(x, y, radius, paint);
    }

    public void SavePng(string path)
    {
        _canvas.Flush();
        using var image = SKImage.FromBitmap(_bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var file = File.Create(path);
        data.SaveTo(file);
    }

    public void Dispose()
    {
        _canvas.Dispose();
        _bitmap.Dispose();
    }
}
