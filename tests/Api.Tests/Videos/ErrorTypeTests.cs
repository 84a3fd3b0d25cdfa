using System.Net;
using VQToken.Api.Tests.Infrastructure;

namespace VQToken.Api.Tests.Videos;

/// <summary>The error types not covered elsewhere: an undecodable upload, and asking a video that is
/// not ready within the wait.</summary>
public class ErrorTypeTests
{
    [Fact]
    public async Task Truncated_mp4_upload_is_rejected_as_undecodable()
    {
        using var factory = new ServiceFactory();
        var client = await factory.ReadyClientAsync();
        var bytes = await File.ReadAllBytesAsync(TestVideos.Mp4(70));   // moov after mdat: half the file has no index
        var truncated = Path.Combine(Directory.CreateTempSubdirectory("vqtoken-truncated-").FullName, "half.mp4");
        await File.WriteAllBytesAsync(truncated, bytes[..(bytes.Length / 2)]);
        var (status, body, _) = await client.UploadAsync(truncated);
        ApiClient.AssertProblem(HttpStatusCode.UnprocessableEntity, "urn:vqtoken:problem:undecodable-video", status, body);
        Directory.Delete(Path.GetDirectoryName(truncated)!, recursive: true);
    }

    [Fact]
    public async Task Asking_a_video_that_is_still_processing_after_the_wait_is_409_not_ready()
    {
        // No waiting, and a slow video (many frames, one frame per vision batch).
        using var factory = new ServiceFactory(new Dictionary<string, string?> { ["Ask:WaitForVideoSeconds"] = "0", ["Engine:MaxBatchFrames"] = "1" });
        var client = await factory.ReadyClientAsync();
        var (_, body, _) = await client.UploadAsync(TestVideos.Mp4(71), new Dictionary<string, string> { ["frames"] = "48" });
        var id = (string)body["id"]!;
        var (status, problem) = await client.AskAsync(id, new { question = "ready yet?" });
        ApiClient.AssertProblem(HttpStatusCode.Conflict, "urn:vqtoken:problem:not-ready", status, problem);
        Assert.Contains("/events", (string?)problem["detail"]);
        Assert.Equal("ready", (string?)(await client.WaitProcessedAsync(id))["status"]);
        var (after, _) = await client.AskAsync(id, new { question = "ready now?", maxNewTokens = 2 });
        Assert.Equal(HttpStatusCode.OK, after);
    }
}
