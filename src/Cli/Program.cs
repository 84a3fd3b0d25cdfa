namespace VQToken.Cli;

/// <summary>The `vqtoken` entry point (in the namespace, so the service's global <c>Program</c> stays unambiguous for
/// assemblies that reference both).</summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        VQToken.Engine.Runtime.OpenMpWaitPolicy.Apply();   // before TorchSharp loads libgomp
        VQToken.Engine.Runtime.HeapTrim.LimitArenas();     // before threads allocate
        return VQTokenCli.Run(args);
    }
}
