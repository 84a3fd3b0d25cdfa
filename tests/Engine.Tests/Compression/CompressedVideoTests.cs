using TorchSharp;
using VQToken.Engine.Compression;
using static TorchSharp.torch;

namespace VQToken.Engine.Tests.Compression;

public class CompressedVideoTests
{
    [Theory]
    [InlineData("parity-a", 4)]
    [InlineData("parity-b", 5)]
    public void Fixed_mode_gives_an_index_map_of_shape_T_g_g_and_K_codebook_rows(string fixture, int grid)
    {
        using var scope = NewDisposeScope();
        var projected = Fixtures.Read(fixture, "expected", "projected"); // [T, g*g, D]
        int frames = (int)projected.shape[0], dim = (int)projected.shape[2];

        var video = VideoCompressor.Compress(projected, CompressionSettings.Fixed(frames: 1, k: 4, seed: 1));

        Assert.Equal(new long[] { frames, grid, grid }, video.IndexMapTensor().shape);
        Assert.Equal(new long[] { 4, dim }, video.CodebookTensor().shape);
        Assert.Equal(new TokenCounts(frames * grid * grid, 4), video.Tokens);
        Assert.Equal(4.0 / (frames * grid * grid), video.Tokens.Ratio, 12);
    }

    [Fact]
    public void Codebook_is_the_mean_of_the_normalised_tokens_of_each_index_map_entry()
    {
        using var scope = NewDisposeScope();
        var projected = Fixtures.Read("parity-b", "expected", "projected");

        var video = VideoCompressor.Compress(projected, CompressionSettings.Fixed(frames: 1, k: 6, seed: 2));

        var expected = Codebook.FromLabels(projected, video.IndexMapTensor(), video.K);
        Assert.True(video.CodebookTensor().allclose(expected, atol: 1e-6));
    }

    [Fact]
    public void Adaptive_mode_records_the_chosen_K_within_its_range()
    {
        var data = SyntheticClusters.Create(clusters: 16, rows: 16 * 49, dim: 32, noise: 0.8, seed: 3);
        using var scope = NewDisposeScope();
        var projected = tensor(data.Rows).reshape(16, 49, 32); // 16 frames of a 7 x 7 grid

        var video = VideoCompressor.Compress(projected, CompressionSettings.Adaptive(frames: 1, 12, 32, ElbowIndexing.Centered, seed: 5));

        Assert.Equal(16, video.K);
        Assert.Equal(CompressionMode.VQTokenAdaptive, video.Settings.Mode);
        Assert.Equal(new long[] { 16, 7, 7 }, video.IndexMapTensor().shape);
    }

    [Fact]
    public void Same_seed_gives_the_same_compressed_video()
    {
        using var scope = NewDisposeScope();
        var projected = Fixtures.Read("parity-a", "expected", "projected");

        var first = VideoCompressor.Compress(projected, CompressionSettings.Fixed(frames: 1, k: 5, seed: 9));
        var second = VideoCompressor.Compress(projected, CompressionSettings.Fixed(frames: 1, k: 5, seed: 9));

        Assert.True(first.IndexMapValues.SequenceEqual(second.IndexMapValues));
        Assert.True(first.CodebookValues.SequenceEqual(second.CodebookValues));
    }

    [Fact]
    public void FromArrays_rejects_a_codebook_that_disagrees_with_its_shape()
    {
        using var scope = NewDisposeScope();
        var video = VideoCompressor.Compress(Fixtures.Read("parity-a", "expected", "projected"), CompressionSettings.Fixed(frames: 1, k: 3));

        Assert.Throws<ArgumentException>(() => CompressedVideo.FromArrays(video.Frames, video.Grid, video.K + 1, video.Dim,
            video.CodebookValues.ToArray(), video.IndexMapValues.ToArray(), video.Settings));
    }

    [Fact]
    public void FromArrays_rejects_index_map_ids_outside_the_codebook()
    {
        using var scope = NewDisposeScope();
        var video = VideoCompressor.Compress(Fixtures.Read("parity-a", "expected", "projected"), CompressionSettings.Fixed(frames: 1, k: 3));
        var ids = Enumerable.Repeat((short)3, video.IndexMapValues.Length).ToArray();

        Assert.Throws<ArgumentException>(() => CompressedVideo.FromArrays(video.Frames, video.Grid, video.K, video.Dim,
            video.CodebookValues.ToArray(), ids, video.Settings));
    }

    [Fact]
    public void Byte_size_counts_a_float32_codebook_and_an_int16_index_map()
    {
        using var scope = NewDisposeScope();
        var projected = Fixtures.Read("parity-b", "expected", "projected"); // [6, 25, 56]

        var video = VideoCompressor.Compress(projected, CompressionSettings.Fixed(frames: 1, k: 4));

        Assert.Equal(4 * 56 * 4 + 6 * 25 * 2, video.ByteSize);
    }

    [Fact]
    public void Tensors_handed_out_do_not_alias_the_cached_values()
    {
        using var scope = NewDisposeScope();
        var video = VideoCompressor.Compress(Fixtures.Read("parity-a", "expected", "projected"), CompressionSettings.Fixed(frames: 1, k: 3));
        float before = video.CodebookValues[0];

        video.CodebookTensor().fill_(42);
        video.IndexMapTensor().fill_(1);

        Assert.Equal(before, video.CodebookValues[0]);
        Assert.Contains(video.IndexMapValues.ToArray(), id => id != 1);
    }

    [Fact]
    public void A_video_with_fewer_tokens_than_K_gets_one_cluster_per_token()
    {
        using var scope = NewDisposeScope();
        var projected = randn([1, 4, 8], generator: new Generator(3)); // one frame of a 2 x 2 grid

        var video = VideoCompressor.Compress(projected, CompressionSettings.Fixed(frames: 1, k: 32));

        Assert.Equal(4, video.K);
        Assert.Equal(4, video.IndexMapValues.ToArray().Distinct().Count());
    }

    [Fact]
    public void Tokens_that_are_not_a_square_grid_or_full_mode_are_rejected()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentException>(() => VideoCompressor.Compress(ones(2, 10, 8), CompressionSettings.Fixed(frames: 1, k: 2)));
        Assert.Throws<ArgumentException>(() => VideoCompressor.Compress(ones(2, 9, 8), new CompressionSettings { Mode = CompressionMode.Full }));
    }

    [Fact]
    public void Compress_leaves_no_live_tensors_behind()
    {
        using var projected = Fixtures.Read("parity-b", "expected", "projected");
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        VideoCompressor.Compress(projected, CompressionSettings.Fixed(frames: 1, k: 4));
        VideoCompressor.Compress(projected, CompressionSettings.Adaptive(frames: 1, 2, 8));

        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Theory]
    [InlineData("fixed", CompressionMode.VQTokenFixed)]
    [InlineData("vqtoken-adaptive", CompressionMode.VQTokenAdaptive)]
    [InlineData("full", CompressionMode.Full)]
    public void Mode_names_parse_and_print(string name, CompressionMode mode)
    {
        Assert.True(CompressionModes.TryParse(name, out var parsed));
        Assert.Equal(mode, parsed);
        Assert.True(CompressionModes.TryParse(mode.WireName(), out var again));
        Assert.Equal(mode, again);
        Assert.False(CompressionModes.TryParse("fast", out _));
    }

    [Theory]
    [InlineData(CompressionMode.Full)]
    [InlineData(CompressionMode.VQTokenFixed)]
    [InlineData(CompressionMode.VQTokenAdaptive)]
    public void Json_uses_the_wire_names(CompressionMode mode)
    {
        // The API's stored records and responses serialise the enum: its JSON must be the wire name.
        string json = System.Text.Json.JsonSerializer.Serialize(mode);
        Assert.Equal($"\"{mode.WireName()}\"", json);
        Assert.Equal(mode, System.Text.Json.JsonSerializer.Deserialize<CompressionMode>(json));
    }
}
