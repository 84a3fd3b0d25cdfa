using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace VQToken.Api.Tests.Storage;

/// <summary>A real redis-server on 127.0.0.1 and a free port, in a temp directory; started on first
/// use (so the file-store cases run without it) and stopped after the collection. No persistence
/// unless <see cref="AppendOnly"/> (for outage tests that stop it and bring it back with its data).
/// A missing redis-server fails the Redis cases with a message saying how to install it.</summary>
public sealed class RedisServerFixture : IAsyncLifetime
{
    private readonly SemaphoreSlim _start = new(1, 1);
    private Process? _server;
    private string? _directory;
    private string? _connectionString;
    private int _port;

    /// <summary>Writes every command to an append-only file (fsync always), so a kill -9 loses nothing.</summary>
    public bool AppendOnly { get; init; }

    /// <summary>The connection string clients use; it stays the same across <see cref="StopAsync"/> and
    /// <see cref="RestartAsync"/>. Null before the first start.</summary>
    public string? ConnectionString => _connectionString;

    public async Task<string> GetConnectionStringAsync()
    {
        await _start.WaitAsync();
        try
        {
            return _connectionString ??= await StartAsync();
        }
        finally
        {
            _start.Release();
        }
    }

    /// <summary>kill -9: the server is gone (an outage), its port free.</summary>
    public async Task StopAsync()
    {
        if (_server is { HasExited: false })
        {
            _server.Kill();
            await _server.WaitForExitAsync();
        }
    }

    /// <summary>SIGSTOP: the server keeps its connections but answers nothing (a hung Redis) until
    /// <see cref="ResumeAsync"/>.</summary>
    public Task PauseAsync() => SignalAsync("STOP");

    public Task ResumeAsync() => SignalAsync("CONT");

    private async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, _server!.Id.ToString()]) ?? throw new InvalidOperationException("kill did not start");
        await kill.WaitForExitAsync();
        if (kill.ExitCode != 0) throw new InvalidOperationException($"kill -{signal} {_server.Id} failed ({kill.ExitCode})");
    }

    /// <summary>Starts the server again on the same port: with its data (the append-only file), or
    /// <paramref name="empty"/> (its files deleted first: Redis lost everything).</summary>
    public async Task RestartAsync(bool empty = false)
    {
        await StopAsync();
        if (empty)
            foreach (var entry in new DirectoryInfo(_directory!).EnumerateFileSystemInfos())
                if (entry is DirectoryInfo dir) dir.Delete(recursive: true); else entry.Delete();
        await LaunchAsync();
    }

    private async Task<string> StartAsync()
    {
        _directory = Directory.CreateTempSubdirectory("vqtoken-redis-").FullName;
        _port = FreePort();
        await LaunchAsync();
        return $"127.0.0.1:{_port},abortConnect=false,connectTimeout=2000";
    }

    private async Task LaunchAsync()
    {
        var executable = FindOnPath("redis-server") ?? throw new InvalidOperationException(
            "redis-server is not installed (not on PATH); the Redis storage tests need a real server: apt-get install -y redis-server");
        int port = _port;
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _directory,
        };
        var persistence = AppendOnly ? new[] { "--appendonly", "yes", "--appendfsync", "always" } : ["--appendonly", "no"];
        foreach (var arg in new[] { "--bind", "127.0.0.1", "--port", port.ToString(), "--save", "" }.Concat(persistence).Concat(["--dir", _directory!, "--daemonize", "no"]))
            start.ArgumentList.Add(arg);
        _server?.Dispose();
        _server = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start");
        _server.OutputDataReceived += (_, _) => { };
        _server.ErrorDataReceived += (_, _) => { };
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();

        for (int attempt = 0; attempt < 100; attempt++)
        {
            if (_server.HasExited) throw new InvalidOperationException($"redis-server exited with code {_server.ExitCode} on port {port}");
            try
            {
                await using var probe = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port},abortConnect=true,connectTimeout=500");
                await probe.GetDatabase().PingAsync();
                return;
            }
            catch (Exception e) when (e is RedisConnectionException || e is RedisServerException { Message: var m } && m.StartsWith("LOADING", StringComparison.Ordinal))
            {
                await Task.Delay(100);
            }
        }
        throw new InvalidOperationException($"redis-server on port {port} did not answer PING");
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_server is { HasExited: false })
        {
            _server.Kill();
            await _server.WaitForExitAsync();
        }
        _server?.Dispose();
        if (_directory is not null) Directory.Delete(_directory, recursive: true);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name)).FirstOrDefault(File.Exists);
}
