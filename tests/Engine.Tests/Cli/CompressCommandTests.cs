using System.Text.Json;
using VQToken.Cli;
using VQToken.Engine.Checkpoints;
using VQToken.Engine.Compression;
using VQToken.Engine.Tests.Compression;
using static TorchSharp.torch;

namespace VQToken.Engine.Tests.Cli;

/// <summary>`compress` on the projected tokens of parity-official-codebook (computed by the official code).</summary>
[Collection(WholeProcessCollection.Name)]
public sealed class CompressCommandTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("vqtoken-compress-test-");

    [Fact]
    public void Adaptive_compress_prints_the_curve_and_the_K_the_official_rule_picks_from_it()
    {
        string file = Path.Combine(_dir.FullName, "tokens.safetensors");
        using (var scope = NewDisposeScope())
            SafeTensorsWriter.Write(file, [new KeyValuePair<string, Tensor>("tokens", Fixtures.Read("parity-official-codebook", "expected", "projected"))]);

        var (code, output) = Run(file, "--threads", "1");

        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        var curve = root.GetProperty("curve").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.Equal(21, curve.Length);                                  // K = 12..32, Kmin first
        Assert.Equal(12, root.GetProperty("min_k").GetInt32());
        Assert.Equal("official", root.GetProperty("elbow").GetString());
        Assert.Equal("vqtoken-adaptive", root.GetProperty("mode").GetString());
        var second = Enumerable.Range(0, curve.Length - 2).Select(i => curve[i] - 2 * curve[i + 1] + curve[i + 2]).ToArray();
        Assert.Equal(Math.Max(Array.IndexOf(second, second.Max()) + 4, 12), root.GetProperty("k").GetInt32());
    }

    [Fact]
    public void Fixed_compress_prints_no_curve()
    {
        string file = Path.Combine(_dir.FullName, "tokens.safetensors");
        using (var scope = NewDisposeScope())
            SafeTensorsWriter.Write(file, [new KeyValuePair<string, Tensor>("tokens", Fixtures.Read("parity-official-codebook", "expected", "projected"))]);

        var (code, output) = Run(file, "--mode", "fixed", "--k", "9", "--threads", "1");

        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(output);
        Assert.Equal(9, json.RootElement.GetProperty("k").GetInt32());
        Assert.False(json.RootElement.TryGetProperty("curve", out _));
    }

    private static (int Code, string Output) Run(params string[] args)
    {
        var previous = Console.Out;
        var captured = new StringWriter();
        Console.SetOut(captured);
        try
        {
            return (new CompressCommand().Run(args), captured.ToString().Trim());
        }
        finally
        {
            Console.SetOut(previous);
        }
    }

    public void Dispose() => _dir.Delete(recursive: true);
}
