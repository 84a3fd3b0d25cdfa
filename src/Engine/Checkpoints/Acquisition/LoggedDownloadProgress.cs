using Microsoft.Extensions.Logging;

namespace VQToken.Engine.Checkpoints.Acquisition;

/// <summary>Forwards download progress to the <see cref="ModelStatus"/> and logs it every 256 MiB and
/// at the end of each file (the status gets every chunk; the log stays readable).</summary>
internal sealed class LoggedDownloadProgress(ModelStatus status, ILogger logger) : IProgress<ModelDownloadProgress>
{
    private const long LogEveryBytes = 256L << 20;
    private long _nextLog;
    private string? _lastFileDone;

    public void Report(ModelDownloadProgress value)
    {
        status.Report(value);
        bool fileDone = value.FileTotalBytes is { } total && value.FileBytes == total && _lastFileDone != value.File;
        if (value.Bytes < _nextLog && !fileDone) return;
        if (fileDone) _lastFileDone = value.File;
        _nextLog = value.Bytes + LogEveryBytes;
        logger.LogInformation("Model download: {Bytes} of {Total} bytes ({File}: {FileBytes} of {FileTotal})",
            value.Bytes, value.TotalBytes?.ToString() ?? "?", value.File, value.FileBytes, value.FileTotalBytes?.ToString() ?? "?");
    }
}
