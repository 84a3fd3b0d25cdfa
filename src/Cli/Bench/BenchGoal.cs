using System.Globalization;

namespace VQToken.Cli.Bench;

/// <summary>A target from the issue for one bench.json key: met or not, with the measured value.</summary>
/// <param name="AtLeast">True when the value must reach the target from below (≥), false for ≤.</param>
public sealed record BenchGoal(string Key, string What, bool AtLeast, double Target, double Value)
{
    public bool Met => double.IsFinite(Value) && (AtLeast ? Value >= Target : Value <= Target);

    public string Rule => string.Create(CultureInfo.InvariantCulture, $"{(AtLeast ? "≥" : "≤")} {Target:0.###}");
}
