using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace VQToken.Api.Processing;

/// <summary>Readiness: jobs can be read (for Redis: the stream's consumer group exists, recreated
/// here after Redis lost its data), so a replica never reports ready while uploads would sit queued.</summary>
public sealed class QueueReadinessCheck(IJobQueue queue) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await queue.CheckAsync(cancellationToken);
            return HealthCheckResult.Healthy("job queue readable");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("job queue unreadable: " + e.Message);
        }
    }
}
