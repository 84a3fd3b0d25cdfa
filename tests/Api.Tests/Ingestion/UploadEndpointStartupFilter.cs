using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using VQToken.Api.Ingestion;
using VQToken.Ingestion;

namespace VQToken.Api.Tests.Ingestion;

/// <summary>A test-only endpoint, POST /test/upload, over <see cref="VideoUploadService"/> (the real routes
/// come with the HTTP API).</summary>
internal sealed class UploadEndpointStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Map("/test/upload", branch => branch.Run(async context =>
        {
            var uploads = context.RequestServices.GetRequiredService<VideoUploadService>();
            try
            {
                using var video = await uploads.ReceiveAsync(context.Request, context.RequestAborted);
                await context.Response.WriteAsJsonAsync(new UploadReply(video.Sha256, video.SizeBytes, video.Info.FrameCount, null));
            }
            catch (VideoIngestException e)
            {
                context.Response.StatusCode = VideoErrorStatus.For(e.Kind);
                await context.Response.WriteAsJsonAsync(new UploadReply(null, 0, 0, e.Kind.ToString()));
            }
        }));
        next(app);
    };
}
