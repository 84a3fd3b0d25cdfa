namespace VQToken.Engine.Tests.Compression;

/// <summary>A plain managed reference: k-means++ (squared Euclidean) on L2-normalised rows, cosine
/// assignment, mean update, run to convergence (or 300 iterations). Slow and simple on purpose.</summary>
internal static class ReferenceLloyd
{
    public static int[] Fit(float[,] input, int k, int seed)
    {
        int n = input.GetLength(0), dim = input.GetLength(1);
        var x = Normalised(input);
        var random = new Random(seed);
        var centres = new double[k][];
        centres[0] = x[random.Next(n)];
        var nearest = new double[n];
        for (int i = 0; i < n; i++) nearest[i] = SquaredDistance(x[i], centres[0]);
        for (int c = 1; c < k; c++)
        {
            double total = nearest.Sum() + n * 1e-6, target = random.NextDouble() * total;
            int pick = 0;
            for (double acc = nearest[0] + 1e-6; acc < target && pick < n - 1; acc += nearest[++pick] + 1e-6) { }
            centres[c] = x[pick];
            for (int i = 0; i < n; i++) nearest[i] = Math.Min(nearest[i], SquaredDistance(x[i], centres[c]));
        }
        var labels = new int[n];
        for (int iteration = 0; iteration < 300; iteration++)
        {
            bool changed = false;
            for (int i = 0; i < n; i++)
            {
                int best = 0;
                double bestCos = double.NegativeInfinity;
                for (int c = 0; c < k; c++)
                {
                    double cos = Dot(x[i], centres[c]) / Math.Max(Math.Sqrt(Dot(centres[c], centres[c])), 1e-12);
                    if (cos > bestCos) { bestCos = cos; best = c; }
                }
                changed |= iteration == 0 || labels[i] != best;
                labels[i] = best;
            }
            if (!changed) break;
            for (int c = 0; c < k; c++)
            {
                var sum = new double[dim];
                int count = 0;
                for (int i = 0; i < n; i++)
                    if (labels[i] == c) { count++; for (int d = 0; d < dim; d++) sum[d] += x[i][d]; }
                if (count > 0) centres[c] = sum.Select(v => v / count).ToArray(); // empty: keep, as official
            }
        }
        return labels;
    }

    /// <summary>Σ 1 − cos(row, normalised mean of its cluster).</summary>
    public static double CosineInertia(float[,] input, int[] labels, int k)
    {
        var x = Normalised(input);
        int dim = input.GetLength(1);
        var sums = new double[k, dim];
        for (int i = 0; i < x.Length; i++)
            for (int d = 0; d < dim; d++) sums[labels[i], d] += x[i][d];
        double inertia = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double dot = 0, norm = 0;
            for (int d = 0; d < dim; d++) { dot += x[i][d] * sums[labels[i], d]; norm += sums[labels[i], d] * sums[labels[i], d]; }
            inertia += 1 - dot / Math.Max(Math.Sqrt(norm), 1e-12);
        }
        return inertia;
    }

    private static double[][] Normalised(float[,] input)
    {
        int n = input.GetLength(0), dim = input.GetLength(1);
        var x = new double[n][];
        for (int i = 0; i < n; i++)
        {
            x[i] = new double[dim];
            double norm = 0;
            for (int d = 0; d < dim; d++) norm += (double)input[i, d] * input[i, d];
            norm = Math.Max(Math.Sqrt(norm), 1e-12);
            for (int d = 0; d < dim; d++) x[i][d] = input[i, d] / norm;
        }
        return x;
    }

    private static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int d = 0; d < a.Length; d++) s += a[d] * b[d];
        return s;
    }

    private static double SquaredDistance(double[] a, double[] b)
    {
        double s = 0;
        for (int d = 0; d < a.Length; d++) s += (a[d] - b[d]) * (a[d] - b[d]);
        return s;
    }
}
