using System.Collections.Concurrent;
using VQToken.Engine.Checkpoints.Acquisition;

namespace VQToken.Engine.Tests.Checkpoints.Download;

/// <summary>Keeps every progress report, synchronously (Progress&lt;T&gt; would post them later), and runs an optional hook.</summary>
internal sealed class RecordingProgress(Action<ModelDownloadProgress>? hook = null) : IProgress<ModelDownloadProgress>
{
    private readonly ConcurrentQueue<ModelDownloadProgress> _reports = new();

    public IReadOnlyList<ModelDownloadProgress> Reports => _reports.ToList();

    public void Report(ModelDownloadProgress value)
    {
        _reports.Enqueue(value);
        hook?.Invoke(value);
    }
}
