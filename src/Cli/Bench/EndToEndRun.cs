using VQToken.Engine.Runtime;

namespace VQToken.Cli.Bench;

/// <summary>One timed upload → answer.</summary>
public sealed record EndToEndRun(string Key, VideoEncoding Encoding, AskResult Answer, double SampleMs, double EncodeMs, double TotalMs);
