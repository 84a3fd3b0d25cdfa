using SkiaSharp;

namespace VQToken.Cli.Plots;

/// <summary>A horizontal bar chart of ratios against their goals on a log axis (1 in the middle):
/// one row per ratio, the bar green when its goal is met, red otherwise, the goal as a black tick.</summary>
public static class RatioChart
{
    public sealed record Row(string Label, double Value, double Goal, bool Met);

    public static void Write(string path, string title, IReadOnlyList<Row> rows)
    {
        const int width = 1100, left = 330, right = 150, top = 70, rowHeight = 44, bottom = 50;
        int height = top + rows.Count * rowHeight + bottom;
        var values = rows.SelectMany(r => new[] { r.Value, r.Goal }).Where(v => v > 0 && double.IsFinite(v)).ToList();
        double lo = Math.Floor(Math.Log10(Math.Min(values.DefaultIfEmpty(0.1).Min(), 1))), hi = Math.Ceiling(Math.Log10(Math.Max(values.DefaultIfEmpty(10).Max(), 1)));
        if (hi <= lo) hi = lo + 1;
        float X(double v) => left + (float)((Math.Log10(Math.Max(v, Math.Pow(10, lo))) - lo) / (hi - lo) * (width - left - right));

        using var canvas = new ChartCanvas(width, height);
        canvas.Text(title, 20, 36, 22, bold: true);
        for (double e = lo; e <= hi; e++)
        {
            float x = X(Math.Pow(10, e));
            canvas.Line(x, top - 8, x, height - bottom + 4, SKColors.LightGray, 1);
            canvas.Text(Math.Pow(10, e).ToString("0.###", System.Globalization.CultureInfo.InvariantCulture), x - 12, height - bottom + 24, 14);
        }
        canvas.Line(X(1), top - 8, X(1), height - bottom + 4, SKColors.Gray, 2);
        for (int i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            float y = top + i * rowHeight;
            canvas.Text(row.Label, 20, y + 26, 16);
            if (double.IsFinite(row.Value) && row.Value > 0)
            {
                float x0 = X(1), x1 = X(row.Value);
                canvas.Rect(Math.Min(x0, x1), y + 8, Math.Abs(x1 - x0) + 1, rowHeight - 16, row.Met ? new SKColor(60, 160, 80) : new SKColor(210, 70, 60));
            }
            float g = X(row.Goal);
            canvas.Line(g, y + 2, g, y + rowHeight - 2, SKColors.Black, 3);
            string value = row.Value.ToString(row.Value >= 10 ? "0" : "0.###", System.Globalization.CultureInfo.InvariantCulture);
            canvas.Text($"{value} (goal {row.Goal.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)})", width - right + 8, y + 26, 14);
        }
        canvas.Text("log scale; black tick = goal; green = met, red = not met", left, height - 10, 13);
        canvas.SavePng(path);
    }
}
