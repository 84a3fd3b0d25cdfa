using System.Diagnostics;

namespace VQToken.Cli.Bench;

/// <summary>CPU-bound neighbour processes on the same cores (a shell busy loop each), standing in for
/// ffmpeg, the web host and other requests; disposing kills exactly the processes started here.</summary>
public sealed class CpuNeighbours : IDisposable
{
    private readonly List<Process> _processes = [];

    public CpuNeighbours(int count)
    {
        for (int i = 0; i < count; i++)
        {
            var start = new ProcessStartInfo("sh", ["-c", "while :; do :; done"]) { UseShellExecute = false };
            _processes.Add(Process.Start(start) ?? throw new InvalidOperationException("could not start a busy-loop neighbour (sh)"));
        }
    }

    public int Count => _processes.Count;

    public void Dispose()
    {
        foreach (var process in _processes)
        {
            try
            {
                if (!process.HasExited) process.Kill();
                process.WaitForExit();
            }
            catch (InvalidOperationException)
            {
                // already gone
            }
            process.Dispose();
        }
        _processes.Clear();
    }
}
