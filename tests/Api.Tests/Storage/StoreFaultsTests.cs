using StackExchange.Redis;
using VQToken.Api.Storage;

namespace VQToken.Api.Tests.Storage;

public sealed class StoreFaultsTests
{
    public static TheoryData<Exception, bool> Cases => new()
    {
        { new RedisConnectionException(ConnectionFailureType.UnableToConnect, "No connection is active/available to service this operation"), true },
        { new RedisTimeoutException("Timeout awaiting response", CommandStatus.Sent), true },
        { new RedisServerException("LOADING Redis is loading the dataset in memory"), true },
        { new RedisServerException("READONLY You can't write against a read only replica."), true },
        { new RedisServerException("NOGROUP No such key 'jobs' or consumer group 'workers'"), true },
        { new AggregateException(new RedisConnectionException(ConnectionFailureType.SocketFailure, "socket closed")), true },
        { new RedisServerException("BUSYGROUP Consumer Group name already exists"), false },
        { new RedisServerException("WRONGTYPE Operation against a key holding the wrong kind of value"), false },
        { new TimeoutException("the answer took too long"), false },
        { new InvalidOperationException("update of video x kept conflicting"), false },
    };

    [Theory, MemberData(nameof(Cases))]
    public void Only_faults_that_pass_with_time_count_as_the_store_being_unavailable(Exception fault, bool unavailable) =>
        Assert.Equal(unavailable, StoreFaults.IsUnavailable(fault));
}
