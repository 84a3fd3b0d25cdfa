using System.Diagnostics;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace VQToken.Api.Tests.Deployment;

/// <summary>deploy/local/topology.sh up: two services behind the real nginx on loopback, then everything
/// stopped and removed. (The multi-replica API test uses the same script with two API commands.)</summary>
public sealed class TopologyScriptTests
{
    private static readonly string[] VideoIds = ["01jz8k3q4m5n6p7r8s9t0v1w2a", "01jz8k3q4m5n6p7r8s9t0v1w2b", "01jz8k3q4m5n6p7r8s9t0v1w2c", "01jz8k3q4m5n6p7r8s9t0v1w2d"];

    [Fact]
    public async Task Two_backends_behind_nginx_share_the_requests_and_are_stopped_and_removed_afterwards()
    {
        RequiredTool.Find("nginx", "apt-get install -y nginx");
        RequiredTool.Find("python3", "apt-get install -y python3");
        var content = Directory.CreateTempSubdirectory("vqtoken-backends-").FullName;
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(RepositoryRoot.File("deploy", "local", "topology.sh"));
        start.ArgumentList.Add("up");
        start.ArgumentList.Add("--");
        for (int i = 1; i <= 2; i++)
        {
            Directory.CreateDirectory(Path.Combine(content, $"b{i}"));
            File.WriteAllText(Path.Combine(content, $"b{i}", "whoami"), $"backend-{i}");
            foreach (var video in VideoIds)
            {
                Directory.CreateDirectory(Path.Combine(content, $"b{i}", "videos", video));
                File.WriteAllText(Path.Combine(content, $"b{i}", "videos", video, "whoami"), $"backend-{i}");
            }
            start.ArgumentList.Add($"exec python3 -m http.server {{port}} --bind 127.0.0.1 --directory '{Path.Combine(content, $"b{i}")}'");
        }
        using var topology = Process.Start(start)!;
        var stderr = topology.StandardError.ReadToEndAsync();
        try
        {
            using var startTimeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            var line = await topology.StandardOutput.ReadLineAsync(startTimeout.Token);
            Assert.True(line is not null && line.StartsWith("TOPOLOGY "), $"no TOPOLOGY line; stderr:\n{(topology.HasExited ? await stderr : "")}");
            var match = Regex.Match(line, @"nginx=(\S+) backends=(\d+),(\d+) prefix=(\S+)");
            Assert.True(match.Success, line);
            var nginx = new Uri(match.Groups[1].Value);
            Assert.True(System.Net.IPAddress.IsLoopback(System.Net.IPAddress.Parse(nginx.Host)));
            int[] backendPorts = [int.Parse(match.Groups[2].Value), int.Parse(match.Groups[3].Value)];
            var prefix = match.Groups[4].Value;

            using var http = new HttpClient { BaseAddress = nginx };
            var seen = new List<string>();
            for (int i = 0; i < 6; i++) seen.Add(await http.GetStringAsync("/whoami"));
            Assert.Contains("backend-1", seen);
            Assert.Contains("backend-2", seen);
            Assert.Equal("ok\n", await http.GetStringAsync("/nginx-health"));
            // Requests about one video always reach the same backend (consistent hash on the id).
            foreach (var video in VideoIds)
            {
                var answers = new HashSet<string>();
                for (int i = 0; i < 4; i++) answers.Add(await http.GetStringAsync($"/videos/{video}/whoami"));
                Assert.Single(answers);
            }

            using (var kill = Process.Start("kill", ["-TERM", topology.Id.ToString()])) await kill.WaitForExitAsync();
            using var stopTimeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            await topology.WaitForExitAsync(stopTimeout.Token);
            Assert.Equal(0, topology.ExitCode);
            Assert.False(Directory.Exists(prefix), "the temporary nginx prefix was not removed");
            foreach (var port in backendPorts.Append(nginx.Port))
            {
                using var probe = new TcpClient();
                await Assert.ThrowsAsync<SocketException>(() => probe.ConnectAsync("127.0.0.1", port));
            }
        }
        finally
        {
            if (!topology.HasExited) topology.Kill(entireProcessTree: true);
            Directory.Delete(content, recursive: true);
        }
    }
}
