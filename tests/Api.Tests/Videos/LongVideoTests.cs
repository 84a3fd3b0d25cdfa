using System.Net;
using System.Text.RegularExpressions;
using VQToken.Api.Tests.Infrastructure;

namespace VQToken.Api.Tests.Videos;

/// <summary>A long video sampled at 1024 frames costs the service about what an 8-frame one does in memory: frames
/// stream from ffmpeg through the vision batches and only their features are held for the K-means.</summary>
public partial class LongVideoTests
{
    /// <summary>Most the service's peak resident memory may grow from an 8-frame video to a 1024-frame one.
    /// 1024 frames as float pixels alone would be 1.8 GB, as RGB bytes 450 MB.</summary>
    private const long MaxPeakGrowthBytes = 256L * 1024 * 1024;

    [Fact]
    public async Task A_twenty_minute_video_at_one_frame_per_second_takes_1024_frames_with_the_peak_memory_of_an_8_frame_one_plus_under_256_MB()
    {
        var folder = Directory.CreateTempSubdirectory("vqtoken-long-").FullName;
        try
        {
            // 20 minutes at 2 fps (2400 frames), 64x48: quick to make, long in time.
            var video = Path.Combine(folder, "twenty-minutes.mp4");
            TestVideos.Run("ffmpeg", $"-loglevel error -y -f lavfi -i testsrc=size=64x48:rate=2 -t 1200 -pix_fmt yuv420p -c:v libx264 -preset ultrafast \"{video}\"");
            var settings = new Dictionary<string, string>
            {
                ["Model:Path"] = ServiceFactory.ModelDirectory, ["Storage:Path"] = Path.Combine(folder, "data"), ["Engine:Device"] = "cpu",
                ["Engine:Threads"] = "2", ["Processing:Workers"] = "1", ["RateLimit:PermitsPerSecond"] = "0",
                ["Video:TempRoot"] = Path.Combine(folder, "tmp"),
            };
            await using var service = ServiceProcess.Start(settings);
            await service.WaitReadyAsync();
            using var client = service.Client();

            // Each run's own peak: VmHWM is reset before it, so the model load's peak hides neither run's.
            ResetPeak(service.ProcessId);
            var (shortStatus, shortBody, _) = await client.UploadAsync(video, new Dictionary<string, string> { ["frames"] = "8", ["k"] = "8" });
            Assert.Equal(HttpStatusCode.Accepted, shortStatus);
            var eight = await client.WaitProcessedAsync((string)shortBody["id"]!, TimeSpan.FromMinutes(2));
            Assert.Equal("ready", (string?)eight["status"]);
            long peakOfEight = PeakResidentBytes(service.ProcessId);

            ResetPeak(service.ProcessId);
            var (longStatus, longBody, _) = await client.UploadAsync(video, new Dictionary<string, string> { ["fps"] = "1", ["maxFrames"] = "1024", ["k"] = "8" });
            Assert.Equal(HttpStatusCode.Accepted, longStatus);
            var long1024 = await client.WaitProcessedAsync((string)longBody["id"]!, TimeSpan.FromMinutes(15));
            long peakOfLong = PeakResidentBytes(service.ProcessId);

            Assert.True((string?)long1024["status"] == "ready", long1024.ToJsonString());
            Assert.Equal(1024, (int?)long1024["progress"]!["framesTotal"]);
            Assert.Equal(1024, (int?)long1024["progress"]!["framesDone"]);
            Assert.Equal(1024 * 729, (long?)long1024["tokens"]!["original"]);
            Assert.Equal(8 * 729, (long?)eight["tokens"]!["original"]);
            // Frame times: source index / 2 fps, uniform over the 2400 frames (1 fps would be 1200 > 1024).
            var times = long1024["frameTimes"]!.AsArray().Select(t => (double)t!).ToArray();
            Assert.Equal(1024, times.Length);
            Assert.Equal(0.0, times[0]);
            Assert.Equal(1199.5, times[^1]);
            Assert.True(times.Zip(times.Skip(1)).All(p => p.Second > p.First), "frame times are not increasing");
            long growth = peakOfLong - peakOfEight;
            Assert.True(growth < MaxPeakGrowthBytes,
                $"the peak resident memory grew by {growth / (1024 * 1024)} MB from the 8-frame video to the 1024-frame one ({peakOfEight / (1024 * 1024)} MB → {peakOfLong / (1024 * 1024)} MB)");

            // Its cluster picture shows 64 of the 1024 frames over the decoded frames: bounded in size and decoding.
            using var picture = await client.GetAsync($"/videos/{(string)longBody["id"]!}/clusters.png");
            Assert.Equal(HttpStatusCode.OK, picture.StatusCode);
            Assert.Equal("frames", picture.Headers.GetValues(VQToken.Api.Videos.Clusters.ClustersApi.BackgroundHeader).Single());
            using var bitmap = SkiaSharp.SKBitmap.Decode(await picture.Content.ReadAsByteArrayAsync());
            int tile = (bitmap.Width - VQToken.Api.Videos.Clusters.ClusterPicture.Gap) / VQToken.Api.Videos.Clusters.ClusterPicture.MaxColumns;
            Assert.Equal(8 * (tile + VQToken.Api.Videos.Clusters.ClusterPicture.CaptionHeight) + VQToken.Api.Videos.Clusters.ClusterPicture.Gap, bitmap.Height);
        }
        finally
        {
            try { Directory.Delete(folder, true); } catch (IOException) { }
        }
    }

    [Fact]
    public async Task Deleting_a_long_video_while_its_frames_stream_stops_ffmpeg_and_the_work()
    {
        using var factory = new ServiceFactory(new Dictionary<string, string?> { ["Processing:Workers"] = "1" });
        var client = await factory.ReadyClientAsync();
        var video = Path.Combine(factory.DataDirectory, "ten-minutes.mp4");
        Directory.CreateDirectory(factory.DataDirectory);
        TestVideos.Run("ffmpeg", $"-loglevel error -y -f lavfi -i testsrc=size=64x48:rate=2 -t 600 -pix_fmt yuv420p -c:v libx264 -preset ultrafast \"{video}\"");

        var (status, body, _) = await client.UploadAsync(video, new Dictionary<string, string> { ["fps"] = "2", ["maxFrames"] = "1024", ["k"] = "8" });
        Assert.Equal(HttpStatusCode.Accepted, status);
        var id = (string)body["id"]!;
        var until = DateTime.UtcNow.AddMinutes(2);
        while ((int?)(await ApiClient.BodyAsync(await client.GetAsync($"/videos/{id}")))["progress"]?["framesDone"] is null or < 16)
        {
            Assert.True(DateTime.UtcNow < until, "the video never started streaming");
            await Task.Delay(50);
        }
        Assert.NotEmpty(FfmpegRunsIn(factory.DataDirectory));

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/videos/{id}")).StatusCode);

        // Without the stop it would decode on for the ~1000 frames left (the engine paces it): many seconds.
        until = DateTime.UtcNow.AddSeconds(4);
        while (FfmpegRunsIn(factory.DataDirectory).Count > 0)
        {
            Assert.True(DateTime.UtcNow < until, "ffmpeg still decodes the deleted video 4 s after the delete");
            await Task.Delay(100);
        }
        // The worker is free again: a short video is processed next, without waiting for the 1024 frames.
        var (_, next, _) = await client.UploadAsync(TestVideos.Mp4(84), new Dictionary<string, string> { ["frames"] = "2", ["k"] = "4" });
        Assert.Equal("ready", (string?)(await client.WaitProcessedAsync((string)next["id"]!, TimeSpan.FromSeconds(20)))["status"]);
    }

    /// <summary>ffmpeg processes reading a file under <paramref name="folder"/>.</summary>
    private static List<int> FfmpegRunsIn(string folder) =>
        Directory.EnumerateDirectories("/proc").Select(d => Path.GetFileName(d)).Where(n => n.All(char.IsDigit)).Select(int.Parse).Where(pid =>
        {
            try
            {
                var command = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0');
                return Path.GetFileName(command[0]) == "ffmpeg" && command.Any(a => a.Contains(folder, StringComparison.Ordinal));
            }
            catch (IOException) { return false; }
            catch (UnauthorizedAccessException) { return false; }
        }).ToList();

    /// <summary>Starts the peak resident set of the process afresh from its current resident set (Linux: 5 to clear_refs).</summary>
    private static void ResetPeak(int pid) => File.WriteAllText($"/proc/{pid}/clear_refs", "5");

    /// <summary>The process's peak resident set (VmHWM) since the last <see cref="ResetPeak"/>.</summary>
    private static long PeakResidentBytes(int pid)
    {
        var status = File.ReadAllText($"/proc/{pid}/status");
        return long.Parse(PeakLine().Match(status).Groups[1].Value) * 1024;
    }

    [GeneratedRegex(@"VmHWM:\s+(\d+) kB")]
    private static partial Regex PeakLine();
}
