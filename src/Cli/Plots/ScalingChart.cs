using System.Globalization;
using SkiaSharp;
using VQToken.Cli.Bench;

namespace VQToken.Cli.Plots;

/// <summary>Seconds per stage against the frame count, both axes logarithmic: vision (per frame × frames) and
/// compression grow with the video, the VQ prefill stays flat. Estimated vision points are drawn hollow.</summary>
public static class ScalingChart
{
    public static void Write(string path, string title, IReadOnlyList<ScalingScenario.Point> points)
    {
        const int width = 900, height = 520, left = 80, right = 220, top = 70, bottom = 60;
        var series = new (string Name, SKColor Colour, Func<ScalingScenario.Point, double> Seconds)[]
        {
            ("vision (all frames)", new SKColor(40, 90, 200), p => p.VisionMsPerFrame * p.Frames / 1000),
            ("compression", new SKColor(220, 120, 30), p => p.CompressionMs / 1000),
            ("VQ prefill", new SKColor(50, 160, 80), p => p.PrefillMs / 1000),
        };
        var values = points.SelectMany(p => series.Select(s => s.Seconds(p))).Where(v => v > 0 && double.IsFinite(v)).ToList();
        double yLo = Math.Floor(Math.Log10(values.DefaultIfEmpty(0.01).Min())), yHi = Math.Ceiling(Math.Log10(values.DefaultIfEmpty(10).Max()));
        if (yHi <= yLo) yHi = yLo + 1;
        double xLo = Math.Log2(points.Min(p => p.Frames)), xHi = Math.Log2(points.Max(p => p.Frames));
        if (xHi <= xLo) xHi = xLo + 1;
        float X(double frames) => left + (float)((Math.Log2(frames) - xLo) / (xHi - xLo) * (width - left - right));
        float Y(double seconds) => height - bottom - (float)((Math.Log10(seconds) - yLo) / (yHi - yLo) * (height - top - bottom));

        using var canvas = new ChartCanvas(width, height);
        canvas.Text(title, 20, 36, 20, bold: true);
        for (double e = yLo; e <= yHi; e++)
        {
            float y = Y(Math.Pow(10, e));
            canvas.Line(left, y, width - right, y, SKColors.LightGray, 1);
            canvas.Text(Math.Pow(10, e).ToString("0.###", CultureInfo.InvariantCulture) + " s", 10, y + 5, 13);
        }
        foreach (var p in points)
        {
            float x = X(p.Frames);
            canvas.Line(x, top, x, height - bottom, SKColors.LightGray, 1);
            canvas.Text(p.Frames.ToString(CultureInfo.InvariantCulture), x - 10, height - bottom + 20, 13);
        }
        canvas.Text("frames (log)", left + 200, height - 14, 14);
        for (int i = 0; i < series.Length; i++)
        {
            var (name, colour, seconds) = series[i];
            var drawn = points.Where(p => seconds(p) > 0 && double.IsFinite(seconds(p))).ToList();
            for (int j = 1; j < drawn.Count; j++)
                canvas.Line(X(drawn[j - 1].Frames), Y(seconds(drawn[j - 1])), X(drawn[j].Frames), Y(seconds(drawn[j])), colour, 2.5f);
            foreach (var p in drawn)
            {
                canvas.Circle(X(p.Frames), Y(seconds(p)), 6, colour);
                if (i == 0 && !p.VisionMeasured) canvas.Circle(X(p.Frames), Y(seconds(p)), 3.5f, SKColors.White);   // estimated: linear per frame
            }
            canvas.Rect(width - right + 20, top + 10 + i * 26, 14, 14, colour);
            canvas.Text(name, width - right + 40, top + 22 + i * 26, 14);
        }
        canvas.Text("hollow: vision estimated", width - right + 20, top + 22 + series.Length * 26, 12);
        canvas.Text("(per frame x frames)", width - right + 20, top + 38 + series.Length * 26, 12);
        canvas.SavePng(path);
    }
}
