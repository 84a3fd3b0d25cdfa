using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using VQToken.Api.Tests.Deployment;

namespace VQToken.Api.Tests.Infrastructure;

/// <summary>The built service as a real process (Kestrel on 127.0.0.1 and a free port, the page served
/// from src/Api/wwwroot), for tests that need real sockets (a browser, the node client), several
/// replicas or a kill -9.</summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    public int Port { get; }
    public Uri BaseAddress => new($"http://127.0.0.1:{Port}");
    public string Log { get { lock (_log) return _log.ToString(); } }
    public bool HasExited => _process.HasExited;
    public int ProcessId => _process.Id;

    private ServiceProcess(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    /// <summary>Path of the built service (same configuration as the tests: Debug or Release).</summary>
    public static string ApiDll
    {
        get
        {
            var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;   // bin/<Configuration>/net10.0/
            var dll = RepositoryRoot.File("src", "Api", "bin", configuration, "net10.0", "VQToken.Api.dll");
            return File.Exists(dll) ? dll : throw new FileNotFoundException($"build the solution first: {dll} is missing", dll);
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static ServiceProcess Start(IDictionary<string, string> settings, int? port = null)
    {
        int p = port ?? FreePort();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(ApiDll);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add($"http://127.0.0.1:{p}");
        start.ArgumentList.Add("--contentRoot");
        start.ArgumentList.Add(RepositoryRoot.File("src", "Api"));
        foreach (var (key, value) in settings)
        {
            start.ArgumentList.Add($"--{key}");
            start.ArgumentList.Add(value);
        }
        start.Environment["DOTNET_ENVIRONMENT"] = "Testing";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Testing";
        var process = Process.Start(start) ?? throw new InvalidOperationException("the service process did not start");
        var service = new ServiceProcess(process, p);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (service._log) service._log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (service._log) service._log.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return service;
    }

    public HttpClient Client() => new() { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(120) };

    /// <summary>Waits for /readyz to answer 200.</summary>
    public async Task WaitReadyAsync(TimeSpan? timeout = null)
    {
        using var client = Client();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < (timeout ?? TimeSpan.FromSeconds(90)))
        {
            if (_process.HasExited) throw new InvalidOperationException($"the service exited ({_process.ExitCode}):\n{Log}");
            try
            {
                if ((await client.GetAsync("/readyz")).IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) { }
            await Task.Delay(200);
        }
        throw new TimeoutException($"the service on port {Port} did not become ready:\n{Log}");
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    /// <summary>SIGTERM, as an orchestrator stops a container: the host shuts down gracefully.</summary>
    public void Terminate()
    {
        if (!_process.HasExited && SendSignal(_process.Id, 15) != 0)
            throw new InvalidOperationException($"kill -TERM {_process.Id} failed ({System.Runtime.InteropServices.Marshal.GetLastPInvokeError()})");
    }

    /// <summary>Waits for the process to exit; false when it is still running after <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try { await _process.WaitForExitAsync(cancel.Token); }
        catch (OperationCanceledException) { }
        return _process.HasExited;
    }

    /// <summary>kill -9: no shutdown, no cleanup — a crash.</summary>
    public void Crash()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
