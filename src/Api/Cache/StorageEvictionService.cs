using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VQToken.Api.Storage;

namespace VQToken.Api.Cache;

/// <summary>Runs <see cref="StorageEvictor"/> (orphan sweep, then the size bound) every <see cref="StorageOptions.EvictionInterval"/>.</summary>
public sealed class StorageEvictionService(StorageEvictor evictor, IOptions<StorageOptions> options, TimeProvider time, ILogger<StorageEvictionService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.EvictionInterval, time);
        do
        {
            try
            {
                await evictor.SweepOrphansAsync(stoppingToken);
                await evictor.EnforceAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogError(e, "Storage eviction pass failed; retrying next interval");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
