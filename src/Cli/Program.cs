namespace VQToken.Cli;

/// <summary>The `vqtoken` entry point (in the namespace, so the service's global <c>Program</c> stays unambiguous for
/// assemblies that reference both).</summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        VQToken.Engine.Runtime.ProcessStart.Prepare();     // first: OpenMP wait policy, glibc arenas
        return VQTokenCli.Run(args);
    }
}
