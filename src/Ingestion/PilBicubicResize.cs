using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace VQToken.Ingestion;

/// <summary>Pillow's <c>Image.resize(size, BICUBIC)</c> on packed RGB bytes, to the level: the same separable
/// passes (horizontal first, 8-bit rounding between), kernel widened by the shrink factor, and the same
/// 22-bit fixed-point weights, because the official SigLIP processor resizes with PIL.
/// One instance per (input size, output size): the weight tables are built once; it reuses its
/// intermediate buffer, so an instance is not for concurrent use.</summary>
public sealed class PilBicubicResize
{
    // 8 bits of result, 2 for the kernel's overshoot, the rest for the weights (PIL's PRECISION_BITS).
    private const int PrecisionBits = 32 - 8 - 2;
    private const int Half = 1 << (PrecisionBits - 1);

    private readonly Taps? _horizontal;
    private readonly Taps? _vertical;
    private readonly int _firstRow;     // rows of the source the vertical pass reads
    private readonly int _rowCount;
    private readonly byte[] _between;   // the horizontal pass's output rows
    private readonly int[] _sums;       // one output row of vertical sums

    public PilBicubicResize(int inWidth, int inHeight, int outWidth, int outHeight)
    {
        if (inWidth < 1 || inHeight < 1 || outWidth < 1 || outHeight < 1)
            throw new ArgumentOutOfRangeException(nameof(inWidth), $"sizes must be positive: {inWidth}x{inHeight} -> {outWidth}x{outHeight}");
        (InWidth, InHeight, OutWidth, OutHeight) = (inWidth, inHeight, outWidth, outHeight);
        if (inWidth != outWidth) _horizontal = Taps.For(inWidth, outWidth);
        if (inHeight != outHeight) _vertical = Taps.For(inHeight, outHeight);
        (_firstRow, _rowCount) = _vertical is { } v ? (v.Start[0], v.Start[^1] + v.Count[^1] - v.Start[0]) : (0, inHeight);
        _between = _horizontal is not null && _vertical is not null ? new byte[(long)outWidth * 3 * _rowCount] : [];
        _sums = _vertical is not null ? new int[outWidth * 3] : [];
    }

    public int InWidth { get; }
    public int InHeight { get; }
    public int OutWidth { get; }
    public int OutHeight { get; }

    /// <summary>Resizes one frame: <paramref name="source"/> is [InHeight, InWidth, 3], <paramref name="destination"/>
    /// [OutHeight, OutWidth, 3].</summary>
    public void Resize(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        var inRow = InWidth * 3;
        var outRow = OutWidth * 3;
        if (source.Length != (long)inRow * InHeight) throw new ArgumentException($"expected {InWidth}x{InHeight} RGB bytes", nameof(source));
        if (destination.Length != (long)outRow * OutHeight) throw new ArgumentException($"expected {OutWidth}x{OutHeight} RGB bytes", nameof(destination));

        switch (_horizontal, _vertical)
        {
            case (null, null):
                source.CopyTo(destination);
                break;
            case ({ } h, null):
                Horizontal(h, source, inRow, 0, InHeight, destination);
                break;
            case (null, { } v):
                Vertical(v, source, inRow, 0, destination);
                break;
            case ({ } h, { } v):
                var between = _between.AsSpan();
                Horizontal(h, source, inRow, _firstRow, _rowCount, between);
                Vertical(v, between, outRow, _firstRow, destination);
                break;
        }
    }

    /// <summary>Rows [first, first + count) of <paramref name="source"/>, resized along x, into consecutive rows of <paramref name="output"/>.</summary>
    private static void Horizontal(Taps taps, ReadOnlySpan<byte> source, int inRow, int first, int count, Span<byte> output)
    {
        var outWidth = taps.Start.Length;
        ref var weights0 = ref MemoryMarshal.GetArrayDataReference(taps.Weights);
        for (int y = 0; y < count; y++)
        {
            var row = source.Slice((first + y) * inRow, inRow);
            var target = output.Slice(y * outWidth * 3, outWidth * 3);
            for (int x = 0; x < outWidth; x++)
            {
                ref var k = ref Unsafe.Add(ref weights0, x * taps.Stride);
                var pixels = row.Slice(taps.Start[x] * 3, taps.Count[x] * 3);
                int r = Half, g = Half, b = Half;
                for (int i = 0, p = 0; p < pixels.Length; i++, p += 3)
                {
                    var w = Unsafe.Add(ref k, i);
                    r += pixels[p] * w;
                    g += pixels[p + 1] * w;
                    b += pixels[p + 2] * w;
                }
                target[x * 3] = Clip(r);
                target[x * 3 + 1] = Clip(g);
                target[x * 3 + 2] = Clip(b);
            }
        }
    }

    /// <summary>Resizes along y; <paramref name="source"/>'s first row is row <paramref name="offset"/> of the image.</summary>
    private void Vertical(Taps taps, ReadOnlySpan<byte> source, int rowBytes, int offset, Span<byte> output)
    {
        var sums = _sums.AsSpan(0, rowBytes);
        for (int y = 0; y < taps.Start.Length; y++)
        {
            sums.Fill(Half);
            var weights = taps.Weights.AsSpan(y * taps.Stride, taps.Count[y]);
            var top = taps.Start[y] - offset;
            for (int i = 0; i < weights.Length; i++)
            {
                var w = weights[i];
                var row = source.Slice((top + i) * rowBytes, rowBytes);
                for (int c = 0; c < row.Length; c++) sums[c] += row[c] * w;
            }
            var target = output.Slice(y * rowBytes, rowBytes);
            for (int c = 0; c < target.Length; c++) target[c] = Clip(sums[c]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte Clip(int sum) => (byte)Math.Clamp(sum >> PrecisionBits, 0, 255);

    /// <summary>Per output pixel: the first input pixel, how many follow, and their fixed-point weights
    /// (row <c>i</c> of <see cref="Weights"/> starts at <c>i * Stride</c>).</summary>
    internal sealed record Taps(int[] Start, int[] Count, int[] Weights, int Stride)
    {
        public static Taps For(int inSize, int outSize)
        {
            var scale = (double)inSize / outSize;
            var filterScale = Math.Max(scale, 1.0);     // shrinking widens the kernel: every input pixel counts
            var support = 2.0 * filterScale;            // bicubic reaches 2 pixels
            var stride = (int)Math.Ceiling(support) * 2 + 1;
            var start = new int[outSize];
            var count = new int[outSize];
            var weights = new int[outSize * stride];
            var exact = new double[stride];
            var inverse = 1.0 / filterScale;
            for (int o = 0; o < outSize; o++)
            {
                var center = (o + 0.5) * scale;
                // PIL truncates toward zero, then clamps to the image.
                var lo = Math.Max((int)(center - support + 0.5), 0);
                var hi = Math.Min((int)(center + support + 0.5), inSize);
                var n = hi - lo;
                var total = 0.0;
                for (int i = 0; i < n; i++)
                {
                    exact[i] = Cubic((i + lo - center + 0.5) * inverse);
                    total += exact[i];
                }
                for (int i = 0; i < n; i++)
                {
                    var w = total != 0.0 ? exact[i] / total : exact[i];
                    weights[o * stride + i] = (int)(w < 0 ? -0.5 + w * (1 << PrecisionBits) : 0.5 + w * (1 << PrecisionBits));
                }
                (start[o], count[o]) = (lo, n);
            }
            return new Taps(start, count, weights, stride);
        }

        /// <summary>Keys' cubic convolution kernel with a = -0.5.</summary>
        private static double Cubic(double x)
        {
            const double a = -0.5;
            x = Math.Abs(x);
            if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
            if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
            return 0.0;
        }
    }
}
