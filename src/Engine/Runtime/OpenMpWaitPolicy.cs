using System.Runtime.InteropServices;

namespace VQToken.Engine.Runtime;

/// <summary>libtorch's OpenMP (libgomp) reads OMP_WAIT_POLICY once, when it loads, and by default spins idle
/// workers; next to ffmpeg, the web host and other requests that multiplies every stage's time.
/// <see cref="Apply"/> runs first thing in Main (<see cref="ProcessStart.Prepare"/>), before anything touches TorchSharp.</summary>
public static class OpenMpWaitPolicy
{
    public const string Variable = "OMP_WAIT_POLICY";
    public const string SpinCountVariable = "GOMP_SPINCOUNT";
    public const string Chosen = "PASSIVE";

    /// <summary>The value to set, or null when the operator already chose a policy or a spin count.</summary>
    public static string? Decide(string? waitPolicy, string? spinCount) =>
        string.IsNullOrWhiteSpace(waitPolicy) && string.IsNullOrWhiteSpace(spinCount) ? Chosen : null;

    /// <summary>Sets the policy in the native environment (getenv sees it; .NET's own
    /// Environment.SetEnvironmentVariable does not reach it on Linux). Returns the policy in force.</summary>
    public static string Apply()
    {
        var current = Environment.GetEnvironmentVariable(Variable);
        var value = Decide(current, Environment.GetEnvironmentVariable(SpinCountVariable));
        if (value is null) return current ?? $"default ({SpinCountVariable}={Environment.GetEnvironmentVariable(SpinCountVariable)})";
        Environment.SetEnvironmentVariable(Variable, value);   // children (ffmpeg) and later readers in .NET
        if (!OperatingSystem.IsWindows())
        {
            try
            {
                SetEnv(Variable, value, overwrite: 0);
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                // no libc setenv: the .NET environment above is all there is
            }
        }
        return value;
    }

    [DllImport("libc", EntryPoint = "setenv", CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern int SetEnv(string name, string value, int overwrite);
}
