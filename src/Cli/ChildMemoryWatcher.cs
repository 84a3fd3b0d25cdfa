using System.Globalization;

namespace VQToken.Cli;

/// <summary>Polls /proc for child processes of <paramref name="parentPid"/> named <paramref name="name"/> and
/// keeps the highest peak resident set (VmHWM) seen: how much memory the ffmpeg decoder needed.</summary>
internal sealed class ChildMemoryWatcher : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _peakKb;

    public ChildMemoryWatcher(int parentPid, string name)
    {
        _loop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                foreach (var dir in Directory.EnumerateDirectories("/proc"))
                {
                    if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) continue;
                    if (!IsChild(pid, parentPid, name)) continue;
                    var kb = BenchIngestCommand.ReadStatusKb(pid, "VmHWM:");
                    if (kb > Interlocked.Read(ref _peakKb)) Interlocked.Exchange(ref _peakKb, kb);
                }
                try { await Task.Delay(50, _stop.Token); } catch (OperationCanceledException) { }
            }
        });
    }

    /// <returns>The peak in kB.</returns>
    public long Stop()
    {
        _stop.Cancel();
        _loop.Wait();
        return Interlocked.Read(ref _peakKb);
    }

    private static bool IsChild(int pid, int parentPid, string name)
    {
        try
        {
            var lines = File.ReadLines($"/proc/{pid}/status").Take(8).ToList();
            var ppid = lines.FirstOrDefault(l => l.StartsWith("PPid:", StringComparison.Ordinal));
            var comm = lines.FirstOrDefault(l => l.StartsWith("Name:", StringComparison.Ordinal));
            return ppid is not null && comm is not null && comm[5..].Trim() == name
                && int.Parse(ppid[5..].Trim(), CultureInfo.InvariantCulture) == parentPid;
        }
        catch (IOException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        if (!_stop.IsCancellationRequested) Stop();
        _stop.Dispose();
    }
}
