namespace VQToken.Api.Tests.Storage;

/// <summary>A clock the test moves by hand, so "least recently used" is decided by the test, not by
/// timestamp resolution.</summary>
public sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
