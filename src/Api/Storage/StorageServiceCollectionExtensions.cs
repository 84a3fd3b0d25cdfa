using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using VQToken.Api.Cache;
using VQToken.Api.Processing;
using VQToken.Api.Videos;

namespace VQToken.Api.Storage;

public static class StorageServiceCollectionExtensions
{
    /// <summary>Folders of the file store under Storage:Path (also opened by the CLI's <c>search</c>).</summary>
    public const string VideosFolder = "videos", CacheFolder = "cache", SourcesFolder = "sources";

    /// <summary>Registers the store chosen by Storage:Kind: <see cref="IVideoStore"/>,
    /// <see cref="ICompressedCache"/>, <see cref="ISourceStore"/>, <see cref="IJobQueue"/>,
    /// <see cref="CachedVideoResolver"/>, the evictor and its periodic service. Options are validated on start, naming the bad setting.</summary>
    public static IServiceCollection AddVideoStorage(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(StorageOptions.Section);
        services.AddOptions<StorageOptions>().Bind(section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new RedisStorageKeys(Options(sp).KeyPrefix));

        // The kind decides the registrations, so it is read now; a bad value fails here, naming Storage:Kind.
        var kind = section.GetValue(nameof(StorageOptions.Kind), StorageKind.File);
        if (kind == StorageKind.Redis)
        {
            services.TryAddSingleton(sp => RedisConnection.Connect(Options(sp).Redis!));
            services.AddSingleton<IVideoStore, RedisVideoStore>();
            services.AddSingleton<ICompressedCache, RedisCompressedCache>();
            services.AddSingleton<ISourceStore>(sp => new DirectorySourceStore(Options(sp).SharedSourcePath!, sp.GetRequiredService<TimeProvider>()));
            services.AddSingleton<IJobQueue>(sp =>
            {
                var o = Options(sp);
                return new RedisJobQueue(sp.GetRequiredService<IConnectionMultiplexer>(), sp.GetRequiredService<RedisStorageKeys>(),
                    o.EffectiveConsumerName, o.JobIdleTimeout, o.PollInterval);
            });
        }
        else
        {
            services.AddSingleton<IVideoStore>(sp => new FileVideoStore(Path.Combine(Options(sp).Path, VideosFolder),
                sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<FileVideoStore>>()));
            services.AddSingleton<ICompressedCache>(sp => new FileCompressedCache(Path.Combine(Options(sp).Path, CacheFolder), sp.GetRequiredService<TimeProvider>()));
            services.AddSingleton<ISourceStore>(sp => new DirectorySourceStore(Path.Combine(Options(sp).Path, SourcesFolder), sp.GetRequiredService<TimeProvider>()));
            services.AddSingleton<IJobQueue>(sp => new LocalJobQueue(sp.GetRequiredService<TimeProvider>(), Options(sp).JobIdleTimeout));
        }
        services.AddSingleton<StorageEvictor>();
        services.AddSingleton<CachedVideoResolver>();
        services.AddHostedService<StorageEvictionService>();
        return services;
    }

    private static StorageOptions Options(IServiceProvider services) => services.GetRequiredService<IOptions<StorageOptions>>().Value;
}
