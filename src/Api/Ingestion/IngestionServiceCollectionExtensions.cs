using Microsoft.Extensions.Options;
using VQToken.Ingestion;
using VQToken.Ingestion.Url;

namespace VQToken.Api.Ingestion;

public static class IngestionServiceCollectionExtensions
{
    /// <summary>Video probing, sampling, uploads and URL fetching, configured from "Video",
    /// "Video" and "Video:Url".</summary>
    public static IServiceCollection AddVideoIngestion(this IServiceCollection services)
    {
        services.AddOptions<VideoOptions>().BindConfiguration(VideoOptions.Section).ValidateDataAnnotations()
            .Validate(o => o.MaxK <= CompressionSettings.MaxSupportedK && o.MaxFrames <= CompressionSettings.MaxSupportedFrames,
                $"Video:MaxK must be at most {CompressionSettings.MaxSupportedK} (the cached index map is int16) and Video:MaxFrames at most {CompressionSettings.MaxSupportedFrames}")
            .ValidateOnStart();
        services.AddOptions<IngestionOptions>().BindConfiguration(IngestionOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<UrlFetchOptions>().BindConfiguration(UrlFetchOptions.Section).ValidateDataAnnotations().ValidateOnStart();

        services.AddSingleton(sp => new VideoProbe(sp.GetRequiredService<IOptions<VideoOptions>>().Value));
        services.AddSingleton(sp => new FrameSampler(sp.GetRequiredService<VideoProbe>()));
        services.AddSingleton(sp => new TempVideoStore(sp.GetRequiredService<IOptions<IngestionOptions>>().Value.TempRoot));
        services.AddSingleton(sp => new VideoUrlFetcher(
            sp.GetRequiredService<IOptions<UrlFetchOptions>>().Value,
            sp.GetRequiredService<TempVideoStore>(),
            sp.GetRequiredService<VideoProbe>()));
        services.AddSingleton<VideoUploadService>();
        return services;
    }
}
