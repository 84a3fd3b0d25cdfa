using SkiaSharp;
using VQToken.Api.Tests.Infrastructure;

namespace VQToken.Api.Tests.Videos.Clusters;

/// <summary>A 1 s 160×120 h264 video of one flat colour (so every frame pixel is known), deleted on dispose.</summary>
public sealed class SolidColourVideo : IDisposable
{
    private readonly string _folder;

    private SolidColourVideo(string folder, string path)
    {
        _folder = folder;
        Path = path;
    }

    public string Path { get; }

    public static SolidColourVideo Create(SKColor colour)
    {
        var folder = Directory.CreateTempSubdirectory("vqtoken-solid-video-").FullName;
        var path = System.IO.Path.Combine(folder, "solid.mp4");
        TestVideos.Run("ffmpeg", $"-loglevel error -y -f lavfi -i color=c=0x{colour.Red:X2}{colour.Green:X2}{colour.Blue:X2}:size=160x120:rate=10 " +
            $"-t 1 -pix_fmt yuv420p -c:v libx264 \"{path}\"");
        return new SolidColourVideo(folder, path);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
