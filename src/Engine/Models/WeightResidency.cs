namespace VQToken.Engine.Models;

/// <summary>How the CPU holds weights under float32 compute (<c>Engine:WeightResidency</c>).</summary>
public enum WeightResidency
{
    /// <summary>As the checkpoint stores them when it stores bfloat16: the linear weights (language model,
    /// vision encoder, projector) and the embedding table stay bf16 (half the memory and of the bytes a
    /// decode step streams), computed in float32. float16 and float32 checkpoints are held in float32.</summary>
    Auto,

    /// <summary>Every weight widened to float32 at load (for CPUs where that is faster).</summary>
    Float32,
}
