using System.Text.Json;
using VQToken.Api.Storage;

namespace VQToken.Api.Tests.Storage;

public sealed class VideoLifecycleTests
{
    [Theory]
    [InlineData(VideoStatus.Queued, VideoStatus.Processing, true)]
    [InlineData(VideoStatus.Processing, VideoStatus.Ready, true)]
    [InlineData(VideoStatus.Processing, VideoStatus.Failed, true)]
    [InlineData(VideoStatus.Processing, VideoStatus.Queued, true)]
    [InlineData(VideoStatus.Ready, VideoStatus.Failed, true)]
    [InlineData(VideoStatus.Ready, VideoStatus.Processing, false)]
    [InlineData(VideoStatus.Ready, VideoStatus.Queued, false)]
    [InlineData(VideoStatus.Failed, VideoStatus.Ready, false)]
    [InlineData(VideoStatus.Failed, VideoStatus.Processing, false)]
    [InlineData(VideoStatus.Queued, VideoStatus.Ready, false)]
    public void Only_lifecycle_transitions_are_allowed_without_a_requeue(VideoStatus from, VideoStatus to, bool allowed)
    {
        Assert.Equal(allowed, VideoLifecycle.CanMove(from, to));
    }

    [Fact]
    public void Record_json_uses_the_api_names_for_statuses_and_modes()
    {
        var record = TestVideos.Queued(settings: CompressionSettings.Adaptive(32, 16, 64));

        var json = JsonSerializer.Serialize(record, StorageJsonContext.Default.VideoRecord);

        Assert.Contains("\"status\":\"queued\"", json);
        Assert.Contains("\"mode\":\"vqtoken-adaptive\"", json);
        Assert.Contains("\"kind\":\"upload\"", json);
        Assert.DoesNotContain("dedupeKey", json);
    }

    [Theory]
    [InlineData(32, CompressionMode.VQTokenFixed, null, null, null, false)]
    [InlineData(32, CompressionMode.VQTokenFixed, 32, null, null, true)]
    [InlineData(32, CompressionMode.VQTokenAdaptive, null, 64, 16, false)]
    [InlineData(0, CompressionMode.Full, null, null, null, false)]
    [InlineData(32, CompressionMode.Full, null, null, null, true)]
    public void Settings_must_match_their_mode(int frames, CompressionMode mode, int? k, int? minK, int? maxK, bool valid)
    {
        var settings = new CompressionSettings { Frames = frames, Mode = mode, K = k, MinK = minK, MaxK = maxK };

        Assert.Equal(valid, settings.Validate() is null);
    }

    [Fact]
    public void Ids_are_url_safe_and_sort_by_creation_time()
    {
        var earlier = VideoId.New(TestVideos.Epoch);
        var later = VideoId.New(TestVideos.Epoch.AddMilliseconds(1));

        Assert.True(VideoId.IsValid(earlier));
        Assert.True(string.CompareOrdinal(earlier, later) < 0);
        Assert.Equal(Uri.EscapeDataString(earlier), earlier);
        Assert.False(VideoId.IsValid("../" + earlier[3..]));
    }
}
