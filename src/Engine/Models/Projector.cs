using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace VQToken.Engine.Models;

/// <summary>LLaVA's <c>mlp2x_gelu</c> projector, <c>model.mm_projector.{0,2}</c>:
/// Linear(Dv → D), GELU (exact erf), Linear(D → D). Applied to every frame token.</summary>
public sealed class Projector : nn.Module<Tensor, Tensor>
{
    public const string Prefix = "model.mm_projector.";
    private readonly nn.Module<Tensor, Tensor> _first, _second;

    public Projector(long visionDim, long hiddenDim, ScalarType dtype, Device device, ScalarType? weightDType = null) : base(nameof(Projector))
    {
        _first = Layers.HeldLinear(visionDim, hiddenDim, true, dtype, device, weightDType);
        _second = Layers.HeldLinear(hiddenDim, hiddenDim, true, dtype, device, weightDType);
        // Checkpoint names are the indices of the original nn.Sequential (index 1 is the GELU).
        register_module("0", _first);
        register_module("2", _second);
    }

    /// <summary>features [T, P, Dv] → [T, P, D].</summary>
    public override Tensor forward(Tensor features)
    {
        using var scope = NewDisposeScope();
        return _second.forward(nn.functional.gelu(_first.forward(features))).MoveToOuterDisposeScope();
    }
}
