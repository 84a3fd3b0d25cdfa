using System.Diagnostics;
using VQToken.Api.Tests.Deployment;
using VQToken.Api.Tests.Infrastructure;

namespace VQToken.Api.Tests.Topology;

/// <summary>The deployment's nginx config (deploy/nginx/nginx.conf, rewritten by deploy/local/topology.sh
/// to loopback ports) running in front of given backend ports, from a temporary prefix.</summary>
public sealed class NginxFront : IAsyncDisposable
{
    private readonly Process _nginx;
    private readonly string _prefix;
    public int Port { get; }

    private NginxFront(Process nginx, string prefix, int port) => (_nginx, _prefix, Port) = (nginx, prefix, port);

    public HttpClient Client() => new() { BaseAddress = new Uri($"http://127.0.0.1:{Port}"), Timeout = TimeSpan.FromSeconds(120) };

    public static async Task<NginxFront> StartAsync(params int[] backendPorts)
    {
        var nginx = RequiredTool.Find("nginx", "apt-get install -y nginx");
        var prefix = Directory.CreateTempSubdirectory("vqtoken-nginx-").FullName;
        int port = ServiceProcess.FreePort();
        var rewrite = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { RepositoryRoot.File("deploy", "local", "topology.sh"), "rewrite", RepositoryRoot.File("deploy", "nginx", "nginx.conf"), prefix, port.ToString() })
            rewrite.ArgumentList.Add(a);
        foreach (var p in backendPorts) rewrite.ArgumentList.Add(p.ToString());
        using (var r = Process.Start(rewrite)!)
        {
            var config = await r.StandardOutput.ReadToEndAsync();
            await r.WaitForExitAsync();
            Assert.True(r.ExitCode == 0, "topology.sh rewrite failed: " + await r.StandardError.ReadToEndAsync());
            await File.WriteAllTextAsync(Path.Combine(prefix, "nginx.conf"), config);
        }
        // nginx workers may run as another user than the master.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(prefix, (UnixFileMode)0b111_101_101);
            foreach (var dir in Directory.GetDirectories(Path.Combine(prefix, "tmp")).Append(Path.Combine(prefix, "tmp")))
                File.SetUnixFileMode(dir, (UnixFileMode)0b111_111_111);
        }
        var start = new ProcessStartInfo(nginx) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-p", prefix, "-c", Path.Combine(prefix, "nginx.conf"), "-g", "daemon off;" }) start.ArgumentList.Add(a);
        var process = Process.Start(start)!;
        var front = new NginxFront(process, prefix, port);
        using var probe = front.Client();
        for (int i = 0; i < 100; i++)
        {
            if (process.HasExited) Assert.Fail("nginx exited: " + await process.StandardError.ReadToEndAsync());
            try { if ((await probe.GetAsync("/nginx-health")).IsSuccessStatusCode) return front; }
            catch (HttpRequestException) { }
            await Task.Delay(100);
        }
        throw new TimeoutException("nginx did not answer on port " + port);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_nginx.HasExited)
        {
            _nginx.Kill(entireProcessTree: true);
            await _nginx.WaitForExitAsync();
        }
        _nginx.Dispose();
        Directory.Delete(_prefix, recursive: true);
    }
}
