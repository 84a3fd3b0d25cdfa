using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using VQToken.Api.Cache;
using VQToken.Api.Processing;
using VQToken.Api.Storage;
using VQToken.Api.Videos;

namespace VQToken.Api.Tests.Storage;

[Collection(StorageCollection.Name)]
public sealed class StorageRegistrationTests(RedisServerFixture redis)
{
    [Theory]
    [InlineData("redis", "Storage:Redis")]
    [InlineData("file", "Storage:MaxBytes", "Storage:MaxBytes", "0")]
    [InlineData("file", "Storage:JobIdleTimeout", "Storage:JobIdleTimeout", "00:00:00")]
    [InlineData("file", "Storage:JobIdleTimeout", "Storage:JobIdleTimeout", "00:00:02.900")]   // heartbeat (a third) under 1 s
    [InlineData("file", "Storage:KeyPrefix", "Storage:KeyPrefix", "has spaces")]
    public async Task Bad_setting_stops_the_host_on_start_naming_it(string kind, string named, string? key = null, string? value = null)
    {
        using var temp = new TempDirectory();
        var settings = new Dictionary<string, string?> { ["Storage:Kind"] = kind, ["Storage:Path"] = temp.Path };
        if (key is not null) settings[key] = value;
        using var host = BuildHost(settings);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(named, error.Message);
    }

    [Fact]
    public void Unknown_kind_is_refused_naming_the_setting()
    {
        var error = Assert.Throws<InvalidOperationException>(() => BuildHost(new() { ["Storage:Kind"] = "postgres" }));

        Assert.Contains("Storage:Kind", error.Message);
    }

    [Fact]
    public async Task File_kind_registers_the_embedded_store_under_the_data_path()
    {
        using var temp = new TempDirectory();
        using var host = BuildHost(new() { ["Storage:Kind"] = "file", ["Storage:Path"] = temp.Path });
        await host.StartAsync();

        var videos = host.Services.GetRequiredService<IVideoStore>();
        await videos.CreateOrGetExistingAsync(TestVideos.Queued());

        Assert.IsType<FileVideoStore>(videos);
        Assert.IsType<FileCompressedCache>(host.Services.GetRequiredService<ICompressedCache>());
        Assert.IsType<LocalJobQueue>(host.Services.GetRequiredService<IJobQueue>());
        Assert.Single(Directory.GetFiles(Path.Combine(temp.Path, "videos"), "*.json"));
        await host.StopAsync();
    }

    [Fact]
    public async Task Redis_kind_registers_the_shared_store()
    {
        using var temp = new TempDirectory();
        using var host = BuildHost(new()
        {
            ["Storage:Kind"] = "redis",
            ["Storage:Redis"] = await redis.GetConnectionStringAsync(),
            ["Storage:SharedSourcePath"] = temp.Path,
            ["Storage:KeyPrefix"] = $"reg-{Guid.NewGuid():N}:",
        });
        await host.StartAsync();

        var videos = host.Services.GetRequiredService<IVideoStore>();
        var created = await videos.CreateOrGetExistingAsync(TestVideos.Queued());

        Assert.IsType<RedisVideoStore>(videos);
        Assert.IsType<RedisJobQueue>(host.Services.GetRequiredService<IJobQueue>());
        Assert.NotNull(await videos.GetAsync(created.Video.Id));
        await host.StopAsync();
    }

    private static IHost BuildHost(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddVideoStorage(builder.Configuration);
        return builder.Build();
    }
}
