using VQToken.Engine.Output;

namespace VQToken.Engine.Tests.Output;

public class EvidenceMapTests
{
    [Fact]
    public void Codebook_mass_is_spread_over_each_clusters_cells_and_summed_per_frame()
    {
        // T = 2 frames of a 2 x 2 grid, K = 3. Frame 0: clusters 0 0 1 2; frame 1: 1 1 1 2.
        short[] indexMap = [0, 0, 1, 2, 1, 1, 1, 2];
        double[] masses = [0.4, 0.3, 0.2, 0.1];                     // clusters 0..2, then image_newline

        var evidence = EvidenceMap.Codebook(masses, indexMap, frames: 2, grid: 2, k: 3, visualShare: 0.5, frameTimes: [0.25, 1.75]);

        // frame 0: 0.4 (both cells of cluster 0) + 0.3/4 + 0.2/2 = 0.575; frame 1: 3·0.3/4 + 0.2/2 = 0.325
        Assert.Equal(0, evidence.Frames[0].Frame);
        Assert.Equal(0.575, evidence.Frames[0].Score, 12);
        Assert.Equal(0.25, evidence.Frames[0].TimeSeconds);
        Assert.Equal(0.325, evidence.Frames[1].Score, 12);
        Assert.Equal(1.75, evidence.Frames[1].TimeSeconds);
        Assert.Equal([2, 4, 2], evidence.Tokens.Select(t => t.Cells));
        Assert.Equal(0.2, evidence.CellScores[0], 12);
        Assert.Equal(0.9, evidence.CellScores.Sum(), 12);           // everything but the newline lands in the video
        Assert.Equal(0.5, evidence.VisualShare);
    }

    [Fact]
    public void Attention_rows_map_to_frames_by_the_official_tiling()
    {
        // T = 2 < K = 3: rows are frames 0, 1, 0 (index rows tiled to K rows).
        double[] masses = [0.1, 0.5, 0.3, 0.0];

        var evidence = EvidenceMap.Attention(masses, frames: 2, grid: 3, k: 3, visualShare: 1);

        Assert.Equal(1, evidence.Frames[0].Frame);
        Assert.Equal(0.5, evidence.Frames[0].Score, 12);
        Assert.Equal(0.4, evidence.Frames[1].Score, 12);
        Assert.All(evidence.Tokens, t => Assert.Equal(9, t.Cells));
    }

    [Fact]
    public void Attention_with_more_frames_than_clusters_gives_one_row_per_frame()
    {
        double[] masses = [0.1, 0.2, 0.3, 0.4, 0.0];                 // T = 4 > K = 2: 4 rows

        var evidence = EvidenceMap.Attention(masses, frames: 4, grid: 2, k: 2, visualShare: 1);

        Assert.Equal([3, 2, 1, 0], evidence.Frames.Select(f => f.Frame));
        Assert.Equal(0.4, evidence.Frames[0].Score, 12);
    }

    [Fact]
    public void Full_token_rows_cover_the_cells_bilinear_pooling_reads()
    {
        // g = 27, p = 14: one frame, all mass on pooled cell (13, 13), the bottom-right corner.
        int pooled = 14;
        var masses = new double[pooled * pooled + 1];
        masses[13 * pooled + 13] = 1.0;

        var evidence = EvidenceMap.Full(masses, frames: 1, grid: 27, visualShare: 1);

        Assert.Equal(1.0, evidence.CellScores.Sum(), 12);
        Assert.Equal(1.0, evidence.Frames[0].Score, 12);
        // (13 + ½)·27/14 − ½ = 25.54: cells 25 and 26 in both directions, a quarter each
        Assert.Equal(0.25, evidence.CellScores[25 * 27 + 25], 12);
        Assert.Equal(0.25, evidence.CellScores[26 * 27 + 26], 12);
        Assert.Equal(4, evidence.Tokens[13 * pooled + 13].Cells);
        Assert.Equal([0], EvidenceMap.Sources(0, 27, 14).Take(1));
    }

    [Fact]
    public void A_planted_frame_that_holds_the_mass_is_ranked_first()
    {
        // 8 frames of 3 x 3; cluster 5 covers frame 6 only and gets most of the attention.
        int frames = 8, grid = 3, k = 6;
        var indexMap = new short[frames * grid * grid];
        for (int c = 0; c < indexMap.Length; c++) indexMap[c] = (short)(c / (grid * grid) == 6 ? 5 : c % 5);
        double[] masses = [0.02, 0.02, 0.02, 0.02, 0.02, 0.8, 0.1];

        var evidence = EvidenceMap.Codebook(masses, indexMap, frames, grid, k, visualShare: 0.9);

        Assert.Equal(6, evidence.Frames[0].Frame);
        Assert.True(evidence.Frames[0].Score > 5 * evidence.Frames[1].Score);
    }

    [Fact]
    public void Mismatched_lengths_are_refused()
    {
        Assert.Throws<ArgumentException>(() => EvidenceMap.Codebook([0.1, 0.2], [0, 0, 0, 0], 1, 2, k: 2, visualShare: 1));
        Assert.Throws<ArgumentException>(() => EvidenceMap.Codebook([0.1, 0.2, 0.0], [0, 0, 0, 5], 1, 2, k: 2, visualShare: 1));
        Assert.Throws<ArgumentException>(() => EvidenceMap.Attention([0.1, 0.0], 2, 2, k: 1, visualShare: 1));
        Assert.Throws<ArgumentException>(() => EvidenceMap.Codebook([0.1, 0.2, 0.0], [0, 1, 0, 1], 1, 2, k: 2, visualShare: 1, frameTimes: [0.0, 1.0]));
    }
}
