using static TorchSharp.torch;

namespace VQToken.Engine.Generation;

/// <summary>Records what the LAST position of each forward attends to among the cache positions
/// [<see cref="Start"/>, Start + <see cref="Count"/>) (an answer's evidence: the visual rows), averaged over every
/// layer and query head, with the softmax over ALL positions so the masses are shares of the whole attention.
/// Attached to a <see cref="KvCache"/> only for the forwards to record; a cache without one costs the attention
/// nothing. Holds one small device tensor between a step's layers: dispose it.</summary>
public sealed class AttentionProbe(long start, long count) : IDisposable
{
    private Tensor? _sum;   // [Count] float64: Σ over this step's layers and query heads
    private long _heads;    // (layer, head) pairs added this step

    public long Start { get; } = start;
    public long Count { get; } = count;

    /// <summary>Adds one layer: <paramref name="probabilities"/> [H, S], each query head's softmax over all S cache positions.</summary>
    internal void Add(Tensor probabilities)
    {
        if (Start + Count > probabilities.shape[1])
            throw new InvalidOperationException($"the probe reads positions [{Start}, {Start + Count}) of a {probabilities.shape[1]}-position cache");
        using var scope = NewDisposeScope();
        var rows = probabilities.narrow(1, Start, Count).to_type(ScalarType.Float64).sum(dim: 0);
        if (_sum is null) _sum = rows.DetachFromDisposeScope();
        else _sum.add_(rows);
        _heads += probabilities.shape[0];
    }

    /// <summary>The step's mass per position (mean over layers and heads), and starts the next step; null
    /// when the step recorded nothing.</summary>
    public double[]? TakeStep()
    {
        if (_sum is null) return null;
        double[] mean;
        using (NewDisposeScope()) mean = _sum.div((double)_heads).cpu().data<double>().ToArray();
        _sum.Dispose();
        (_sum, _heads) = (null, 0);
        return mean;
    }

    public void Dispose()
    {
        _sum?.Dispose();
        _sum = null;
    }
}
