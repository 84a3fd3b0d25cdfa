using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace VQToken.Api.Tests.Storage;

/// <summary>A real redis-server on 127.0.0.1 and a free port, no persistence, in a temp directory;
/// started on first use (so the file-store cases run without it) and stopped after the collection.
/// A missing redis-server fails the Redis cases with a message saying how to install it.</summary>
public sealed class RedisServerFixture : IAsyncLifetime
{
    private readonly SemaphoreSlim _start = new(1, 1);
    private Process? _server;
    private string? _directory;
    private string? _connectionString;

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

    private async Task<string> StartAsync()
    {
        var executable = FindOnPath("redis-server") ?? throw new InvalidOperationException(
            "redis-server is not installed (not on PATH); the Redis storage tests need a real server: apt-get install -y redis-server");
        _directory = Directory.CreateTempSubdirectory("vqtoken-redis-").FullName;
        int port = FreePort();
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _directory,
        };
        foreach (var arg in new[] { "--bind", "127.0.0.1", "--port", port.ToString(), "--save", "", "--appendonly", "no", "--dir", _directory, "--daemonize", "no" })
            start.ArgumentList.Add(arg);
        _server = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start");
        _server.OutputDataReceived += (_, _) => { };
        _server.ErrorDataReceived += (_, _) => { };
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();

        var connectionString = $"127.0.0.1:{port},abortConnect=false,connectTimeout=2000";
        for (int attempt = 0; attempt < 100; attempt++)
        {
            if (_server.HasExited) throw new InvalidOperationException($"redis-server exited with code {_server.ExitCode} on port {port}");
            try
            {
                await using var probe = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port},abortConnect=true,connectTimeout=500");
                await probe.GetDatabase().PingAsync();
                return connectionString;
            }
            catch (RedisConnectionException)
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
