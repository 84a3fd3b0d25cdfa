using VQToken.Api.Tests.Infrastructure;
using VQToken.Api.Tests.Videos;

namespace VQToken.Api.Tests.Topology;

public class CrashRecoveryTests
{
    [Fact]
    public async Task Videos_interrupted_by_kill_9_all_finish_after_restart()
    {
        var data = Directory.CreateTempSubdirectory("vqtoken-crash-").FullName;
        try
        {
            var settings = new Dictionary<string, string>
            {
                ["Model:Path"] = ServiceFactory.ModelDirectory, ["Storage:Path"] = data, ["Engine:Device"] = "cpu",
                ["Engine:MaxBatchFrames"] = "2", ["Processing:Workers"] = "1", ["RateLimit:PermitsPerSecond"] = "0",
            };
            var ids = new List<string>();
            await using (var first = ServiceProcess.Start(settings))
            {
                await first.WaitReadyAsync();
                using var client = first.Client();
                for (int i = 0; i < 5; i++)
                {
                    var (_, body, _) = await client.UploadAsync(TestVideos.Mp4(40 + i), new Dictionary<string, string> { ["frames"] = "24" });
                    ids.Add((string)body["id"]!);
                }
                // Crash while a video is being processed.
                var until = DateTime.UtcNow.AddSeconds(60);
                while (!await AnyProcessing(client, ids))
                {
                    Assert.True(DateTime.UtcNow < until, "no video was ever seen processing");
                    await Task.Delay(20);
                }
                first.Crash();
            }
            await using var second = ServiceProcess.Start(settings);
            await second.WaitReadyAsync();
            using var after = second.Client();
            var statuses = new List<string>();
            foreach (var id in ids) statuses.Add((string)(await after.WaitProcessedAsync(id, TimeSpan.FromSeconds(180)))["status"]!);
            Assert.All(statuses, s => Assert.Equal("ready", s));
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    private static async Task<bool> AnyProcessing(HttpClient client, IEnumerable<string> ids)
    {
        foreach (var id in ids)
            if ((string?)(await ApiClient.BodyAsync(await client.GetAsync($"/videos/{id}")))["status"] == "processing") return true;
        return false;
    }
}
