using VQToken.Engine.Compression;
using VQToken.Engine.Runtime;

namespace VQToken.Engine.Output;

/// <summary>The attention an answer's tokens paid to the visual rows, cache positions [VisualStart, VisualStart +
/// RowMass.Count). Token t's attention is that of the forward that produced it: the last prompt position for the
/// first token, the decode step fed with token t − 1 for the others; each is averaged over all layers and heads,
/// with the softmax over all positions.</summary>
/// <param name="RowMass">Per visual row (newline last), the mass averaged over the answer's tokens.</param>
/// <param name="TokenShares">Per generated token, its total mass on the visual rows.</param>
public sealed record VisualAttention(int VisualStart, IReadOnlyList<double> RowMass, IReadOnlyList<double> TokenShares)
{
    /// <summary>The share of the answer's attention that went to visual rows at all (mean of <see cref="TokenShares"/>).</summary>
    public double VisualShare => RowMass.Sum();
}

/// <summary>An evidence ask's visual attention, one produced token at a time (managed; the model runner adds
/// steps, the ask reads it when it completes). The step that produced a stop id is dropped: it is no answer token.</summary>
internal sealed class EvidenceCollector(int visualStart, int visualRows, int poolStride)
{
    private readonly double[] _sum = new double[visualRows];   // every step but the last
    private double[]? _last;
    private readonly List<double> _shares = [];

    public void Add(double[] masses)
    {
        if (masses.Length != visualRows) throw new InvalidOperationException($"{masses.Length} masses for {visualRows} visual rows");
        if (_last is not null)
            for (int i = 0; i < _sum.Length; i++) _sum[i] += _last[i];
        _last = masses;
        _shares.Add(masses.Sum());
    }

    /// <summary>The attention of the first <paramref name="tokens"/> produced tokens (all steps, or all but a final stop id's).</summary>
    public VisualAttention Attention(int tokens)
    {
        if (tokens != _shares.Count && tokens != _shares.Count - 1)
            throw new InvalidOperationException($"{_shares.Count} recorded steps for {tokens} tokens");
        var rows = (double[])_sum.Clone();
        if (tokens == _shares.Count && _last is not null)
            for (int i = 0; i < rows.Length; i++) rows[i] += _last[i];
        if (tokens > 0)
            for (int i = 0; i < rows.Length; i++) rows[i] /= tokens;
        return new VisualAttention(visualStart, rows, _shares.Take(tokens).ToArray());
    }

    /// <summary>The attention of the first <paramref name="tokens"/> tokens mapped onto the encoding's frames and cells.</summary>
    public (VisualAttention Attention, AnswerEvidence Evidence) Result(int tokens, VideoEncoding encoding)
    {
        var attention = Attention(tokens);
        return (attention, EvidenceMap.For(encoding, attention, poolStride));
    }
}
