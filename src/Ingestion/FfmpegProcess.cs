using System.ComponentModel;
using System.Diagnostics;

namespace VQToken.Ingestion;

/// <summary>One ffmpeg or ffprobe run with an argument list (no shell, no quoting), binary stdout for the
/// caller to stream from, and the last lines of stderr kept for error messages.</summary>
internal sealed class FfmpegProcess : IAsyncDisposable
{
    private const int StderrLinesKept = 20;
    private readonly Process _process;
    private readonly Queue<string> _stderr = new();

    private FfmpegProcess(Process process)
    {
        _process = process;
    }

    public Stream StandardOutput => _process.StandardOutput.BaseStream;

    public string StderrTail
    {
        get { lock (_stderr) return string.Join(" | ", _stderr); }
    }

    public static FfmpegProcess Start(string executable, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        var process = new Process { StartInfo = info };
        var run = new FfmpegProcess(process);
        process.ErrorDataReceived += (_, e) => run.KeepStderr(e.Data);
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            process.Dispose();
            throw new VideoIngestException(VideoErrorKind.ToolUnavailable, $"could not start {executable}: {e.Message}", e);
        }
        process.BeginErrorReadLine();
        return run;
    }

    public async Task<int> WaitForExitAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            Kill();
            throw;
        }
        return _process.ExitCode;
    }

    public void Kill()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        try
        {
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(grace.Token);
        }
        catch (OperationCanceledException)
        {
            // the kill was sent; nothing more to do
        }
        _process.Dispose();
    }

    private void KeepStderr(string? line)
    {
        if (string.IsNullOrWhiteSpace(line)) return;
        lock (_stderr)
        {
            _stderr.Enqueue(line.Trim());
            while (_stderr.Count > StderrLinesKept) _stderr.Dequeue();
        }
    }
}
