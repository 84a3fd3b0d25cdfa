using VQToken.Engine.Checkpoints;
using VQToken.Testing;

namespace VQToken.Engine.Tests.Checkpoints.Download;

/// <summary>Two generated tiny checkpoints (one weight file; two shards + index), held as bytes for
/// the stand-in hub to serve.</summary>
public sealed class HubCheckpointFixture : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "vqtoken-hubsrc-" + Guid.NewGuid().ToString("N")[..8]);

    public IReadOnlyDictionary<string, byte[]> Single { get; }
    public IReadOnlyDictionary<string, byte[]> Sharded { get; }

    public HubCheckpointFixture()
    {
        Single = WriteAndRead("single", new RandomCheckpoint.Options(CheckpointSize.Tiny, Seed: 3));
        Sharded = WriteAndRead("sharded", new RandomCheckpoint.Options(CheckpointSize.Tiny, Seed: 4, Shards: 2));
    }

    private Dictionary<string, byte[]> WriteAndRead(string name, RandomCheckpoint.Options options)
    {
        var dir = Path.Combine(_root, name);
        RandomCheckpoint.Write(dir, options);
        return Directory.GetFiles(dir).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes, StringComparer.Ordinal);
    }

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }
}
