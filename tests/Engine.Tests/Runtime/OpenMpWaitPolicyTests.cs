using System.Diagnostics;
using VQToken.Engine.Runtime;

namespace VQToken.Engine.Tests.Runtime;

public sealed class OpenMpWaitPolicyTests
{
    [Theory]
    [InlineData(null, null, "PASSIVE")]
    [InlineData("", " ", "PASSIVE")]
    [InlineData("ACTIVE", null, null)]
    [InlineData("passive", null, null)]
    [InlineData(null, "300000", null)]
    public void Passive_is_chosen_only_when_the_operator_set_neither_a_policy_nor_a_spin_count(string? policy, string? spinCount, string? expected) =>
        Assert.Equal(expected, OpenMpWaitPolicy.Decide(policy, spinCount));

    /// <summary>libgomp reads the policy when libtorch loads: the CLI's first statement must reach the native
    /// environment in time. OMP_DISPLAY_ENV makes libgomp print what it read (spin count 0 = passive).</summary>
    [Theory]
    [InlineData(null, "OMP_WAIT_POLICY = 'PASSIVE'", "GOMP_SPINCOUNT = '0'")]
    [InlineData("ACTIVE", "OMP_WAIT_POLICY = 'ACTIVE'", "GOMP_SPINCOUNT = '30000000000'")]
    public async Task The_cli_process_starts_libtorch_with_the_policy_in_force(string? given, string policyLine, string spinLine)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "vqtoken.dll"), "bench-compress", "--frames", "1", "--tokens", "36", "--dim", "8",
                     "--clusters", "2", "--k", "4", "--min-k", "2", "--repeat", "1", "--skip-official" })
            start.ArgumentList.Add(arg);
        start.Environment.Remove(OpenMpWaitPolicy.Variable);
        start.Environment.Remove(OpenMpWaitPolicy.SpinCountVariable);
        if (given is not null) start.Environment[OpenMpWaitPolicy.Variable] = given;
        start.Environment["OMP_DISPLAY_ENV"] = "VERBOSE";
        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        var stdout = await process.StandardOutput.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        var output = stdout + await stderr;
        Assert.Equal(0, process.ExitCode);
        Assert.Contains(policyLine, output);
        Assert.Contains(spinLine, output);
    }
}
