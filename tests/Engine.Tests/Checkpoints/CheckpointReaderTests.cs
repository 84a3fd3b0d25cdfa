using VQToken.Engine.Checkpoints;
using VQToken.Engine.Models;
using VQToken.Engine.Tests.Support;
using static TorchSharp.torch;

namespace VQToken.Engine.Tests.Checkpoints;

public class CheckpointReaderTests
{
    [Fact]
    public void Sharded_checkpoint_with_index_loads_the_same_model_as_the_single_file()
    {
        using var temp = new TempDir();
        var sharded = FixtureModels.CopyWith(temp, "parity-a", shards: 2);
        Assert.Equal(2, Directory.GetFiles(sharded, "model-*-of-00002.safetensors").Length);
        Assert.True(File.Exists(Path.Combine(sharded, CheckpointReader.IndexFileName)));
        using var scope = NewDisposeScope();

        using var single = LlavaOneVision.Load(TestPaths.FixtureModel("parity-a"));
        using var fromShards = LlavaOneVision.Load(sharded);

        using (var reader = new CheckpointReader(sharded))
        using (var reference = new CheckpointReader(TestPaths.FixtureModel("parity-a")))
            Assert.Equal(reference.Names.Order(), reader.Names.Order());
        var expected = FixtureRun.Stages(single, "parity-a");
        var actual = FixtureRun.Stages(fromShards, "parity-a");
        foreach (var ((stage, e), (_, a)) in expected.Zip(actual))
            Assert.True(Managed.Identical(a, e), $"{stage} differs between the sharded and the single-file checkpoint");
    }

    [Fact]
    public void Index_naming_a_shard_that_lacks_the_tensor_is_rejected()
    {
        using var temp = new TempDir();
        var sharded = FixtureModels.CopyWith(temp, "parity-a", shards: 2);
        var indexPath = Path.Combine(sharded, CheckpointReader.IndexFileName);
        var index = File.ReadAllText(indexPath);
        // Point the first shard's entry for model.norm.weight at the other shard.
        var shardOfNorm = index.Contains("\"model.norm.weight\":\"model-00001-of-00002.safetensors\"") ? 1 : 2;
        var wrong = index.Replace($"\"model.norm.weight\":\"model-0000{shardOfNorm}-of-00002.safetensors\"",
            $"\"model.norm.weight\":\"model-0000{3 - shardOfNorm}-of-00002.safetensors\"");
        Assert.NotEqual(index, wrong);
        File.WriteAllText(indexPath, wrong);

        var error = Assert.Throws<InvalidDataException>(() => new CheckpointReader(sharded).Dispose());
        Assert.Contains("model.norm.weight", error.Message);
    }

    [Fact]
    public void Index_naming_a_missing_shard_fails_naming_the_shard()
    {
        using var temp = new TempDir();
        var sharded = FixtureModels.CopyWith(temp, "parity-a", shards: 2);
        File.Delete(Path.Combine(sharded, "model-00002-of-00002.safetensors"));

        var error = Assert.Throws<FileNotFoundException>(() => new CheckpointReader(sharded).Dispose());
        Assert.Contains("model-00002-of-00002.safetensors", error.Message);
    }

    [Fact]
    public void Bfloat16_weights_are_converted_to_float32_when_loading_on_the_cpu_with_float32_residency()
    {
        using var temp = new TempDir();
        var bf16 = FixtureModels.CopyWith(temp, "parity-a", tensors =>
        {
            foreach (var name in tensors.Names.ToList())
                if (tensors[name].is_floating_point()) tensors.Set(name, tensors[name].to_type(ScalarType.BFloat16));
        });
        using var scope = NewDisposeScope();
        using var original = TensorSet.ReadCheckpoint(TestPaths.FixtureModel("parity-a"));

        using (var reader = new CheckpointReader(bf16))
        {
            Assert.Equal("BF16", reader.Info("model.norm.weight").DType);
            var loaded = reader.Load("model.norm.weight", ScalarType.Float32);
            Assert.Equal(ScalarType.Float32, loaded.dtype);
            Assert.True(Managed.Identical(loaded, RoundedToBf16(original["model.norm.weight"])));
        }

        using var model = LlavaOneVision.Load(bf16, residency: WeightResidency.Float32);
        Assert.Equal(ScalarType.Float32, model.DType);
        Assert.False(model.Bf16Resident);
        int compared = 0;
        foreach (var (module, prefix) in new (nn.Module, string)[]
                 { (model.Language, ""), (model.VisionTower, SigLipVisionTower.Prefix), (model.Projector, Projector.Prefix) })
            foreach (var (name, param) in module.named_parameters())
            {
                if (!original.Contains(prefix + name)) continue;   // the tied lm_head alias
                Assert.Equal(ScalarType.Float32, param.dtype);
                Assert.True(Managed.Identical(param, RoundedToBf16(original[prefix + name])), $"{prefix + name} is not the bf16 value as float32");
                compared++;
            }
        Assert.True(compared > 40, $"only {compared} parameters compared");
        Assert.Equal(ScalarType.Float32, model.ImageNewline.dtype);
    }

    [Fact]
    public void Directory_without_weights_fails_naming_the_directory()
    {
        using var temp = new TempDir();

        var error = Assert.Throws<FileNotFoundException>(() => new CheckpointReader(temp.Path).Dispose());
        Assert.Contains(temp.Path, error.Message);
    }

    private static Tensor RoundedToBf16(Tensor t) => t.to_type(ScalarType.BFloat16).to_type(ScalarType.Float32);
}
