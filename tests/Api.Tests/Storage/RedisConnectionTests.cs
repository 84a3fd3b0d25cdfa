using StackExchange.Redis;
using VQToken.Api.Storage;

namespace VQToken.Api.Tests.Storage;

public sealed class RedisConnectionTests
{
    [Fact]
    public void Connection_never_aborts_and_fails_fast_whatever_the_string_says()
    {
        var options = RedisConnection.Options("127.0.0.1:6390,abortConnect=true");

        Assert.False(options.AbortOnConnectFail);
        Assert.Same(BacklogPolicy.FailFast, options.BacklogPolicy);
        Assert.Equal(2000, options.ConnectTimeout);
        Assert.Equal(3000, options.SyncTimeout);
        Assert.Equal("127.0.0.1:6390", Assert.Single(options.EndPoints).ToString());
    }

    [Fact]
    public void Timeouts_in_the_connection_string_win_over_the_defaults()
    {
        var options = RedisConnection.Options("redis.internal:6379,connectTimeout=7000,syncTimeout=9000,asyncTimeout=8000");

        Assert.Equal((7000, 9000, 8000), (options.ConnectTimeout, options.SyncTimeout, options.AsyncTimeout));
    }
}
