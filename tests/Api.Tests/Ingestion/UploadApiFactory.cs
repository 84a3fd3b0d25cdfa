using System.Globalization;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using VQToken.Api.Ingestion;

namespace VQToken.Api.Tests.Ingestion;

/// <summary>The API host with video ingestion, the test upload endpoint, its own temp root and a small
/// upload limit; also owns one ffmpeg-generated mp4 for the tests.</summary>
public sealed class UploadApiFactory : WebApplicationFactory<Program>
{
    public const long UploadLimit = 48 * 1024;

    public UploadApiFactory()
    {
        Dir = Directory.CreateTempSubdirectory("vqtoken-upload-tests-").FullName;
        TempRoot = Path.Combine(Dir, "ingest");
        VideoPath = Path.Combine(Dir, "clip.mp4");
        TestVideo.Generate(VideoPath, "testsrc2=size=96x64:rate=10:duration=1");
        BigVideoPath = Path.Combine(Dir, "big.mkv");
        TestVideo.Generate(BigVideoPath, "testsrc2=size=320x240:rate=10:duration=1", "-c:v", "ffv1");
    }

    public string Dir { get; }
    public string TempRoot { get; }
    public string VideoPath { get; }
    /// <summary>A video larger than <see cref="UploadLimit"/>.</summary>
    public string BigVideoPath { get; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Video:TempRoot", TempRoot);
        builder.UseSetting("Video:MaxUploadBytes", UploadLimit.ToString(CultureInfo.InvariantCulture));
        builder.ConfigureServices(services =>
        {
            services.AddVideoIngestion();
            services.AddTransient<IStartupFilter, UploadEndpointStartupFilter>();
        });
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && Directory.Exists(Dir)) Directory.Delete(Dir, recursive: true);
    }
}
