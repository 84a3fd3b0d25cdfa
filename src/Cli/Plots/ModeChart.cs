using System.Globalization;
using SkiaSharp;

namespace VQToken.Cli.Plots;

/// <summary>Two panels side by side, accuracy and latency per sample against visual tokens (log
/// axis), one labelled point per compression mode: the eval report's picture of the paper's trade-off.</summary>
public static class ModeChart
{
    public sealed record Point(string Mode, double Tokens, double Accuracy, double SecondsPerSample);

    public static void Write(string path, string title, IReadOnlyList<Point> points)
    {
        const int panel = 520, height = 440, top = 70, bottom = 60, left = 70;
        using var canvas = new ChartCanvas(panel * 2 + 40, height);
        canvas.Text(title, 20, 34, 20, bold: true);
        Panel(canvas, 0, "accuracy (%)", points.Select(p => p.Accuracy * 100).ToList(), points, fixedMax: 100);
        Panel(canvas, panel + 20, "seconds per sample", points.Select(p => p.SecondsPerSample).ToList(), points);
        canvas.SavePng(path);

        void Panel(ChartCanvas c, float x0, string yName, List<double> ys, IReadOnlyList<Point> pts, double? fixedMax = null)
        {
            float plotLeft = x0 + left, plotRight = x0 + panel - 20, plotTop = top, plotBottom = height - bottom;
            double tMin = Math.Floor(Math.Log10(Math.Max(1, pts.Min(p => p.Tokens)))), tMax = Math.Ceiling(Math.Log10(Math.Max(10, pts.Max(p => p.Tokens))));
            if (tMax <= tMin) tMax = tMin + 1;
            double yMax = fixedMax ?? Math.Max(ys.DefaultIfEmpty(1).Max() * 1.15, 1e-9);
            float X(double t) => plotLeft + (float)((Math.Log10(Math.Max(t, 1)) - tMin) / (tMax - tMin) * (plotRight - plotLeft));
            float Y(double v) => plotBottom - (float)(v / yMax * (plotBottom - plotTop));
            c.Line(plotLeft, plotBottom, plotRight, plotBottom, SKColors.Black, 1.5f);
            c.Line(plotLeft, plotTop, plotLeft, plotBottom, SKColors.Black, 1.5f);
            for (double e = tMin; e <= tMax; e++)
                c.Text(Math.Pow(10, e).ToString("0", CultureInfo.InvariantCulture), X(Math.Pow(10, e)) - 10, plotBottom + 20, 13);
            for (int i = 0; i <= 4; i++)
            {
                double v = yMax * i / 4;
                c.Text(v.ToString(v >= 10 ? "0" : "0.##", CultureInfo.InvariantCulture), x0 + 10, Y(v) + 5, 13);
            }
            c.Text("visual tokens (log)", plotLeft + 120, height - 14, 14);
            c.Text(yName, plotLeft + 10, plotTop - 12, 15, bold: true);
            SKColor[] colours = [new(40, 90, 200), new(220, 120, 30), new(50, 160, 80), new(150, 60, 170)];
            for (int i = 0; i < pts.Count; i++)
            {
                float x = X(pts[i].Tokens), y = Y(ys[i]);
                c.Circle(x, y, 7, colours[i % colours.Length]);
                // Labels stacked by mode, so points that sit close together stay readable.
                c.Text($"{pts[i].Mode} ({pts[i].Tokens:0.#} tok)", Math.Min(x + 10, plotRight - 150), Math.Max(plotTop + 14, y - 12 - 18 * i), 13, color: colours[i % colours.Length]);
            }
        }
    }
}
