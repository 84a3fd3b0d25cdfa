using VQToken.Engine.Checkpoints;
using static TorchSharp.torch;

namespace VQToken.Engine.Tests.Compression;

/// <summary>Locates the shared parity fixtures (../shared/fixtures next to the checkout) and reads their tensors.</summary>
internal static class Fixtures
{
    /// <summary>The fixture folder, e.g. "parity-a": walks up from the test assembly to the folder
    /// holding VQToken.Service.sln, then ../shared/fixtures. Fails (never skips) when absent.</summary>
    public static string Folder(string name)
    {
        return Support.TestPaths.Fixture(name);
    }

    /// <summary>Reads one tensor of a fixture file (e.g. "inputs", "labels") as a new CPU tensor.</summary>
    public static Tensor Read(string fixture, string file, string name)
    {
        using var safetensors = new SafeTensorsFile(Path.Combine(Folder(fixture), file + ".safetensors"));
        return safetensors.Read(name);
    }
}
