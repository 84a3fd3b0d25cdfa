namespace VQToken.Engine.Tests.Support;

/// <summary>Copies of a parity fixture's checkpoint (config.json + weights) with edits applied,
/// written into a test's temp directory.</summary>
internal static class FixtureModels
{
    public static string CopyWith(TempDir temp, string fixture, Action<TensorSet>? edit = null, int shards = 1, string name = "model")
    {
        var source = TestPaths.FixtureModel(fixture);
        var target = temp.Sub(name);
        File.Copy(Path.Combine(source, "config.json"), Path.Combine(target, "config.json"));
        using var tensors = TensorSet.ReadCheckpoint(source);
        edit?.Invoke(tensors);
        if (shards == 1) tensors.Write(target);
        else tensors.WriteSharded(target, shards);
        return target;
    }
}
