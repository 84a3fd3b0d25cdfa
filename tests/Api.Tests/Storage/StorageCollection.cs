namespace VQToken.Api.Tests.Storage;

/// <summary>The storage tests share one redis-server.</summary>
[CollectionDefinition(Name)]
public sealed class StorageCollection : ICollectionFixture<RedisServerFixture>
{
    public const string Name = "storage";
}
