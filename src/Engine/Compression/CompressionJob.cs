using TorchSharp;
using static TorchSharp.torch;

namespace VQToken.Engine.Compression;

/// <summary>One video's compression in progress: call <see cref="Advance"/> until it reports true, then
/// read <see cref="Result"/>. Dispose it to stop early (frees its tensors).</summary>
public sealed class CompressionJob : IDisposable
{
    private readonly Tensor _rows;
    private readonly IEnumerator<CompressedVideo?> _slices;
    private readonly System.Runtime.CompilerServices.StrongBox<IReadOnlyList<double>?> _curve;

    internal CompressionJob(Tensor rows, IEnumerable<CompressedVideo?> slices, System.Runtime.CompilerServices.StrongBox<IReadOnlyList<double>?> curve)
    {
        _rows = rows;
        _slices = slices.GetEnumerator();
        _curve = curve;
    }

    /// <summary>The adaptive mode's distortion curve (one value per K, Kmin first) once K is chosen; null in fixed mode.</summary>
    public IReadOnlyList<double>? Curve => _curve.Value;

    /// <summary>The compressed video, once <see cref="Advance"/> returned true.</summary>
    public CompressedVideo? Result { get; private set; }

    /// <summary>Slices run so far.</summary>
    public int SlicesRun { get; private set; }

    /// <summary>Runs one slice of bounded work; true when the compression is complete.</summary>
    public bool Advance()
    {
        if (Result is not null) return true;
        using var scope = NewDisposeScope();
        if (!_slices.MoveNext()) throw new InvalidOperationException("the compression ended without a result");
        SlicesRun++;
        Result = _slices.Current;
        return Result is not null;
    }

    public void Dispose()
    {
        _slices.Dispose();
        _rows.Dispose();
    }
}
