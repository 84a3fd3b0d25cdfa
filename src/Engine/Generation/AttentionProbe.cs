using static TorchSharp.torch;

namespace VQToken.Engine.Generation;

/// <summary>Records what the LAST position of each forward attends to among the cache positions
/// [<see cref="Start"/>, Start + <see cref="Count"/>) (an answer's evidence: the visual rows), averaged over every
/// layer and query head, with the softmax over ALL positions so the masses are shares of the whole attention.
/// Attached to a <see cref="KvCache"/> only for the forwards to record; a cache without one costs the attention
/// nothing. Holds the step's per-layer probabilities until <see cref="TakeStep"/>: dispose it.</summary>
public sealed class AttentionProbe(long start, long count) : IDisposable
{
    private readonly List<Tensor> _layers = [];   // this step's [H, S] per layer, reduced once in TakeStep

    public long Start { get; } = start;
    public long Count { get; } = count;

    /// <summary>Adds one layer: <paramref name="probabilities"/> [H, S], each query head's softmax over all S
    /// cache positions (kept as is: one reduction per step costs fewer calls than one per layer).</summary>
    internal void Add(Tensor probabilities)
    {
        if (Start + Count > probabilities.shape[1])
            throw new InvalidOperationException($"the probe reads positions [{Start}, {Start + Count}) of a {probabilities.shape[1]}-position cache");
        _layers.Add(probabilities.DetachFromDisposeScope());
    }

    /// <summary>The step's mass per position (mean over layers and heads), and starts the next step; null
    /// when the step recorded nothing.</summary>
    public double[]? TakeStep()
    {
        if (_layers.Count == 0) return null;
        double[] mean;
        using (NewDisposeScope())
            mean = stack(_layers, 0).narrow(2, Start, Count).to_type(ScalarType.Float64).mean([0L, 1L]).cpu().data<double>().ToArray();
        Clear();
        return mean;
    }

    private void Clear()
    {
        foreach (var t in _layers) t.Dispose();
        _layers.Clear();
    }

    public void Dispose() => Clear();
}
