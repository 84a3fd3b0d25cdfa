using System.Text;
using VQToken.Api.Cache;

namespace VQToken.Api.Tests.Storage;

public sealed class ModelFingerprintTests
{
    [Fact]
    public void Fingerprint_follows_the_config_and_the_weights_index()
    {
        using var checkpoint = new TempDirectory();
        File.WriteAllText(Path.Combine(checkpoint.Path, "config.json"), """{"hidden_size":896}""");
        File.WriteAllText(Path.Combine(checkpoint.Path, "model.safetensors.index.json"), """{"weight_map":{"a":"model-00001.safetensors"}}""");

        var first = ModelFingerprint.FromCheckpointDirectory(checkpoint.Path);
        var again = ModelFingerprint.FromCheckpointDirectory(checkpoint.Path);
        File.WriteAllText(Path.Combine(checkpoint.Path, "model.safetensors.index.json"), """{"weight_map":{"a":"model-00002.safetensors"}}""");
        var otherWeights = ModelFingerprint.FromCheckpointDirectory(checkpoint.Path);

        Assert.Equal(first, again);
        Assert.NotEqual(first, otherWeights);
        Assert.Matches("^[0-9a-f]{32}$", first);
    }

    [Fact]
    public void Single_file_checkpoint_is_fingerprinted_by_its_safetensors_header()
    {
        using var checkpoint = new TempDirectory();
        File.WriteAllText(Path.Combine(checkpoint.Path, "config.json"), "{}");
        WriteSafeTensors(Path.Combine(checkpoint.Path, "model.safetensors"), """{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""");
        var first = ModelFingerprint.FromCheckpointDirectory(checkpoint.Path);

        WriteSafeTensors(Path.Combine(checkpoint.Path, "model.safetensors"), """{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}} """);

        Assert.NotEqual(first, ModelFingerprint.FromCheckpointDirectory(checkpoint.Path));
    }

    [Fact]
    public void Parts_are_length_prefixed()
    {
        Assert.NotEqual(ModelFingerprint.Compute("ab"u8.ToArray(), "c"u8.ToArray()), ModelFingerprint.Compute("a"u8.ToArray(), "bc"u8.ToArray()));
    }

    private static void WriteSafeTensors(string path, string header)
    {
        var bytes = Encoding.UTF8.GetBytes(header);
        using var file = File.Create(path);
        file.Write(BitConverter.GetBytes((long)bytes.Length));
        file.Write(bytes);
        file.Write(new byte[4]);
    }
}
