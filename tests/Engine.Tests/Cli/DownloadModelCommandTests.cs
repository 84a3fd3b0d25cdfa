using System.Text.Json;
using VQToken.Cli;
using VQToken.Engine.Tests.Checkpoints.Download;

namespace VQToken.Engine.Tests.Cli;

/// <summary>`download-model` against the stand-in hub on loopback: the result on stdout, progress on stderr.</summary>
[Collection(WholeProcessCollection.Name)]   // swaps Console.Out and Console.Error
public sealed class DownloadModelCommandTests(HubCheckpointFixture checkpoints) : IClassFixture<HubCheckpointFixture>
{
    [Fact]
    public async Task Download_fills_the_cache_prints_one_json_line_and_reports_bytes_as_plain_lines_without_a_terminal()
    {
        await using var hub = await HubStandIn.StartAsync("test-owner/tiny-vqtoken", "main", checkpoints.Single);
        using var cache = new TempDirectory();
        long total = checkpoints.Single.Values.Sum(b => (long)b.Length);

        var (previousOut, previousError) = (Console.Out, Console.Error);
        var (output, error) = (new StringWriter(), new StringWriter());
        Console.SetOut(output);
        Console.SetError(error);
        int code;
        try
        {
            code = new DownloadModelCommand().Run(["--repo", "test-owner/tiny-vqtoken", "--endpoint", hub.HubUri.ToString(), "--cache", cache.Path]);
        }
        finally
        {
            Console.SetOut(previousOut);
            Console.SetError(previousError);
        }

        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(output.ToString());
        Assert.True(json.RootElement.GetProperty("ok").GetBoolean());
        var dir = json.RootElement.GetProperty("dir").GetString()!;
        Assert.All(checkpoints.Single, f => Assert.Equal(f.Value, File.ReadAllBytes(Path.Combine(dir, f.Key))));
        Assert.Contains($"{total}/{total} bytes", error.ToString());
        Assert.DoesNotContain("\u001b[", error.ToString());
    }
}
