using VQToken.Engine.Models;
using VQToken.Engine.Tests.Runtime;
using static TorchSharp.torch;

namespace VQToken.Engine.Tests.Models;

/// <summary>On the CPU the vision tower runs a long batch a few frames per pass (its activations stay those of a
/// few frames): the batch's features must be each frame's own, in order, the last short pass included.</summary>
public sealed class VisionPassesTests : IClassFixture<TinyCheckpointFixture>
{
    private readonly TinyCheckpointFixture _checkpoint;

    public VisionPassesTests(TinyCheckpointFixture checkpoint) => _checkpoint = checkpoint;

    [Fact]
    public void A_real_frame_goes_alone_and_a_small_model_takes_four_frames_a_pass()
    {
        Assert.Equal(1, SigLipVisionTower.CpuFramesPerPass(new VQToken.Engine.Checkpoints.SigLipConfig()));   // 729 × 4304 floats: ~12.5 MB
        using var model = LlavaOneVision.Load(_checkpoint.Directory, CPU, ScalarType.Float32);
        Assert.Equal(4, SigLipVisionTower.CpuFramesPerPass(model.Config.Vision));
    }

    [Fact]
    public void A_batch_longer_than_one_pass_encodes_every_frame_as_it_would_alone()
    {
        using var model = LlavaOneVision.Load(_checkpoint.Directory, CPU, ScalarType.Float32);
        using var scope = NewDisposeScope();
        using var generator = new Generator(5);
        int frames = SigLipVisionTower.CpuFramesPerPass(model.Config.Vision) * 2 + 1, side = model.Config.Vision.ImageSize;
        var pixels = rand([frames, 3, side, side], generator: generator) * 2 - 1;

        var batch = model.EncodeVision(pixels);

        Assert.Equal(frames, batch.shape[0]);
        for (int i = 0; i < frames; i++)
        {
            var alone = model.EncodeVision(pixels.narrow(0, i, 1));
            Assert.True(batch.narrow(0, i, 1).allclose(alone, rtol: 1e-4, atol: 1e-5), $"frame {i} differs from its encoding alone");
        }
    }
}
