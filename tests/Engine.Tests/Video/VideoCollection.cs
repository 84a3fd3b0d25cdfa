namespace VQToken.Engine.Tests.Video;

/// <summary>Shares one <see cref="GeneratedVideos"/> across the video test classes (and runs them one
/// after another: ffmpeg is busy enough on two cores).</summary>
[CollectionDefinition(Name)]
public sealed class VideoCollection : ICollectionFixture<GeneratedVideos>
{
    public const string Name = "generated videos";
}
