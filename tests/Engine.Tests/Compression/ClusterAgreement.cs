namespace VQToken.Engine.Tests.Compression;

/// <summary>Adjusted Rand index between two labelings (1 = identical partitions up to renaming, ~0 = chance).</summary>
internal static class ClusterAgreement
{
    public static double AdjustedRandIndex(int[] a, int[] b)
    {
        if (a.Length != b.Length) throw new ArgumentException("labelings differ in length");
        var table = new Dictionary<(int, int), long>();
        var rowSums = new Dictionary<int, long>();
        var columnSums = new Dictionary<int, long>();
        for (int i = 0; i < a.Length; i++)
        {
            table[(a[i], b[i])] = table.GetValueOrDefault((a[i], b[i])) + 1;
            rowSums[a[i]] = rowSums.GetValueOrDefault(a[i]) + 1;
            columnSums[b[i]] = columnSums.GetValueOrDefault(b[i]) + 1;
        }
        static double Pairs(long n) => n * (n - 1) / 2.0;
        double index = table.Values.Sum(Pairs);
        double rows = rowSums.Values.Sum(Pairs), columns = columnSums.Values.Sum(Pairs);
        double expected = rows * columns / Pairs(a.Length), maximum = (rows + columns) / 2;
        return maximum == expected ? 1 : (index - expected) / (maximum - expected);
    }
}
