using System.Diagnostics;
using VQToken.Api.Tests.Infrastructure;
using VQToken.Api.Tests.Videos;

namespace VQToken.Api.Tests.Topology;

public class ShutdownTests
{
    [Fact]
    public async Task Sigterm_during_a_long_compression_ends_the_process_within_30_seconds_and_leaves_the_video_for_redelivery()
    {
        var data = Directory.CreateTempSubdirectory("vqtoken-sigterm-").FullName;
        try
        {
            // Limits raised to the settings that once held the engine for 20 minutes (adaptive K 1..4096).
            var settings = new Dictionary<string, string>
            {
                ["Model:Path"] = ServiceFactory.ModelDirectory, ["Storage:Path"] = data, ["Engine:Device"] = "cpu", ["Engine:Threads"] = "2",
                ["Processing:Workers"] = "1", ["RateLimit:PermitsPerSecond"] = "0",
                ["Video:MaxK"] = "4096", ["Video:MaxAdaptiveKSpan"] = "4095", ["Video:MaxFramesTimesK"] = "1000000",
            };
            string id;
            await using (var service = ServiceProcess.Start(settings))
            {
                await service.WaitReadyAsync();
                using var client = service.Client();
                var (_, body, _) = await client.UploadAsync(TestVideos.Mp4(72), new Dictionary<string, string>
                {
                    ["frames"] = "20", ["compression"] = "vqtoken-adaptive", ["minK"] = "1", ["maxK"] = "4096",
                });
                id = (string)body["id"]!;
                await client.WaitForCompressionAsync(id);

                var clock = Stopwatch.StartNew();
                service.Terminate();
                bool exited = await service.WaitForExitAsync(TimeSpan.FromSeconds(60));
                Assert.True(exited && clock.Elapsed < TimeSpan.FromSeconds(30), $"SIGTERM took {clock.Elapsed} (exited: {exited}):\n{service.Log}");
            }

            // The interrupted job is not failed: the next start picks it up again.
            await using var restarted = ServiceProcess.Start(settings);
            await restarted.WaitReadyAsync();
            using var after = restarted.Client();
            var video = await ApiClient.BodyAsync(await after.GetAsync($"/videos/{id}"));
            Assert.Contains((string?)video["status"], new[] { "queued", "processing" });
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }
}
