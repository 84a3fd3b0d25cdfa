namespace VQToken.Engine.Tests.Compression;

/// <summary>Rows drawn around known, well-separated random directions: rows[i] = centre[truth[i]] + noise.</summary>
internal sealed record SyntheticClusters(float[,] Rows, int[] Truth, int Clusters)
{
    public static SyntheticClusters Create(int clusters, int rows, int dim, double noise, int seed)
    {
        var random = new Random(seed);
        var centres = new double[clusters, dim];
        for (int c = 0; c < clusters; c++)
            for (int d = 0; d < dim; d++) centres[c, d] = Gaussian(random);
        var data = new float[rows, dim];
        var truth = new int[rows];
        for (int i = 0; i < rows; i++)
        {
            truth[i] = i % clusters; // every cluster equally represented
            for (int d = 0; d < dim; d++) data[i, d] = (float)(centres[truth[i], d] + noise * Gaussian(random));
        }
        return new SyntheticClusters(data, truth, clusters);
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
