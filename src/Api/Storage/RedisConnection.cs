using StackExchange.Redis;

namespace VQToken.Api.Storage;

/// <summary>How a replica connects to Redis: it starts (and stays up) while Redis is down, commands fail
/// fast while there is no connection (a request gets a 503 at once instead of waiting out a timeout),
/// and it reconnects on its own within seconds of Redis returning.</summary>
public static class RedisConnection
{
    /// <summary>Defaults placed before the configured string, so a value given there wins.</summary>
    public const string Defaults = "connectTimeout=2000,syncTimeout=3000,asyncTimeout=3000,connectRetry=1,keepAlive=10";

    public static ConfigurationOptions Options(string connectionString)
    {
        var options = ConfigurationOptions.Parse(Defaults + "," + connectionString);
        options.AbortOnConnectFail = false;                     // never throw at start-up: keep retrying in the background
        options.BacklogPolicy = BacklogPolicy.FailFast;         // no queueing while disconnected: callers see the outage now
        options.ReconnectRetryPolicy = new ExponentialRetry(250, 2000);   // back within ~2 s of Redis returning
        return options;
    }

    public static IConnectionMultiplexer Connect(string connectionString) => ConnectionMultiplexer.Connect(Options(connectionString));
}
