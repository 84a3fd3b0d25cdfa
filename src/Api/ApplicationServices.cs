using VQToken.Api.Ask;
using VQToken.Api.Inference;
using VQToken.Api.Ingestion;
using VQToken.Api.OpenAi;
using VQToken.Api.Processing;
using VQToken.Api.Search;
using VQToken.Api.ServiceDefaults;
using VQToken.Api.Storage;
using VQToken.Api.Videos;
using VQToken.Api.Videos.Clusters;
using VQToken.Engine.Checkpoints.Acquisition;
using VQToken.Engine.Runtime;

namespace VQToken.Api;

/// <summary>All of the service's own DI in one place.</summary>
public static class ApplicationServices
{
    public static WebApplicationBuilder AddApplicationServices(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton(TimeProvider.System);
        services.AddOptions<EngineOptions>().BindConfiguration(EngineOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<AskOptions>().BindConfiguration(AskOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ProcessingOptions>().BindConfiguration(ProcessingOptions.Section).ValidateDataAnnotations().ValidateOnStart();

        services.AddVideoIngestion();
        services.AddVideoStorage(builder.Configuration);

        services.AddOptions<ModelOptions>().BindConfiguration(ModelOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ModelStatus>();
        services.AddSingleton<ModelHost>();
        services.AddHostedService(sp => sp.GetRequiredService<ModelHost>());
        services.AddSingleton<VideoIntake>();
        services.AddSingleton<VideoAnswerer>();
        services.AddSingleton<AnswerEvidenceStore>();
        services.AddOptions<SearchOptions>().BindConfiguration(SearchOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<LibrarySearch>();
        services.AddSingleton<VideoServices>();
        services.AddOptions<ClustersOptions>().BindConfiguration(ClustersOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ClusterPictures>();
        services.AddSingleton<IVideoEncoder, EngineVideoEncoder>();
        services.AddHostedService<VideoProcessor>();
        services.AddOpenAiApi();
        services.AddSingleton<IExceptionProblems, ApiErrors>();

        services.AddHealthChecks()
            .AddCheck<ModelReadinessCheck>("model", tags: ["ready"])
            .AddCheck<StoreReadinessCheck>("store", tags: ["ready"])
            .AddCheck<QueueReadinessCheck>("queue", tags: ["ready"]);
        return builder;
    }
}
