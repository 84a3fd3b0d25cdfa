namespace VQToken.Api.Tests.Storage;

/// <summary>Base of the contract tests: every [Theory] over <see cref="Kinds"/> runs once against the
/// file store and once against Redis.</summary>
public abstract class StorageContractTestBase(RedisServerFixture redis)
{
    public static TheoryData<string> Kinds => [StorageBackend.File, StorageBackend.Redis];

    protected Task<StorageBackend> OpenAsync(string kind) => StorageBackend.CreateAsync(kind, redis);
}
