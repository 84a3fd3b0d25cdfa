using StackExchange.Redis;

namespace VQToken.Api.Storage;

/// <summary>Which exceptions mean "the shared store is unreachable for now" (retry later: 503 for a
/// request, leave the job for a worker) rather than a bug or a bad video.</summary>
public static class StoreFaults
{
    /// <summary>Seconds a client is told to wait (Retry-After) while the store is unreachable.</summary>
    public const int RetryAfterSeconds = 5;

    // Server replies that say "not now" (restarting, loading its data, failing over), not "wrong".
    private static readonly string[] TransientServerErrors = ["LOADING", "MASTERDOWN", "READONLY", "BUSY", "TRYAGAIN", "CLUSTERDOWN", "NOGROUP"];

    public static bool IsUnavailable(Exception e) => e switch
    {
        RedisConnectionException or RedisTimeoutException => true,
        RedisServerException server => TransientServerErrors.Any(p => server.Message.StartsWith(p + " ", StringComparison.Ordinal)),
        AggregateException { InnerExceptions: [var inner] } => IsUnavailable(inner),
        _ => false,
    };
}
