using System.Diagnostics;
using System.Text.RegularExpressions;
using VQToken.Engine.Checkpoints;

namespace VQToken.Api.Tests.Infrastructure;

/// <summary>The built service as a real Kestrel server in a child process (<c>dotnet VQToken.Api.dll</c>) on a
/// free loopback port, over a generated tiny checkpoint and a temporary data directory, serving the page
/// from src/Api/wwwroot. For clients that need a real socket (a browser). Killed and cleaned up on dispose.</summary>
public sealed partial class ApiServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _workDirectory;
    private readonly Queue<string> _output = new();

    private ApiServerProcess(Process process, string workDirectory)
    {
        _process = process;
        _workDirectory = workDirectory;
    }

    /// <summary>http://127.0.0.1:PORT/</summary>
    public Uri BaseAddress { get; private set; } = null!;

    public static async Task<ApiServerProcess> StartAsync(IDictionary<string, string> settings, TimeSpan readyTimeout)
    {
        string root = Deployment.RepositoryRoot.Path;
        string apiDll = Path.Combine(root, "src", "Api", "bin", BuildFlavour(), "VQToken.Api.dll");
        if (!File.Exists(apiDll)) throw new FileNotFoundException($"the service is not built at {apiDll} (dotnet build builds it with the tests)");
        string work = Directory.CreateTempSubdirectory("vqtoken-api-server-").FullName;
        string model = Path.Combine(work, "model");
        RandomCheckpoint.Write(model, new RandomCheckpoint.Options(CheckpointSize.Tiny, Seed: 3));

        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = work,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        var arguments = new Dictionary<string, string>
        {
            ["--urls"] = "http://127.0.0.1:0",
            ["--contentRoot"] = Path.Combine(root, "src", "Api"),
            ["--Model:Path"] = model,
            ["--Storage:Path"] = Path.Combine(work, "data"),
            ["--Video:TempRoot"] = Path.Combine(work, "tmp"),
            ["--Engine:Device"] = "cpu",
            ["--Engine:Threads"] = "2",
            ["--RateLimit:PermitsPerSecond"] = "0",
        };
        foreach (var (k, v) in settings) arguments["--" + k] = v;
        start.ArgumentList.Add(apiDll);
        foreach (var (k, v) in arguments) { start.ArgumentList.Add(k); start.ArgumentList.Add(v); }

        var server = new ApiServerProcess(Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start"), work);
        try
        {
            server.BaseAddress = await server.ListeningAddressAsync(readyTimeout);
            await server.WaitReadyAsync(readyTimeout);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>The last lines the server wrote, for failure messages.</summary>
    public string OutputTail()
    {
        lock (_output) return string.Join('\n', _output);
    }

    private async Task<Uri> ListeningAddressAsync(TimeSpan timeout)
    {
        var found = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Collect(string? line)
        {
            if (line is null) return;
            lock (_output)
            {
                _output.Enqueue(line);
                while (_output.Count > 200) _output.Dequeue();
            }
            if (ListeningLine().Match(line) is { Success: true } match) found.TrySetResult(new Uri(match.Groups[1].Value.TrimEnd('/') + "/"));
        }
        // Both streams are read to the end for the whole run, so the server never blocks on a full pipe.
        _process.OutputDataReceived += (_, e) => Collect(e.Data);
        _process.ErrorDataReceived += (_, e) => Collect(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var exited = _process.WaitForExitAsync();
        var first = await Task.WhenAny(found.Task, exited, Task.Delay(timeout));
        if (first == found.Task) return await found.Task;
        throw new InvalidOperationException((first == exited ? $"the service exited with {_process.ExitCode}" : $"the service did not listen within {timeout.TotalSeconds:0} s")
            + ":\n" + OutputTail());
    }

    private async Task WaitReadyAsync(TimeSpan timeout)
    {
        using var client = new HttpClient { BaseAddress = BaseAddress };
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var ready = await client.GetAsync("/readyz");
            if (ready.IsSuccessStatusCode) return;
            if (clock.Elapsed > timeout || _process.HasExited)
                throw new TimeoutException($"the service did not become ready: {await ready.Content.ReadAsStringAsync()}\n{OutputTail()}");
            await Task.Delay(200);
        }
    }

    /// <summary>"Debug/net10.0" (or Release/…) from the test assembly's own output folder: the service was built alongside.</summary>
    private static string BuildFlavour()
    {
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        return Path.Combine(output.Parent!.Name, output.Name);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        try { Directory.Delete(_workDirectory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    [GeneratedRegex(@"Now listening on: (http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningLine();
}
