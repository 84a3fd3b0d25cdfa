using TorchSharp;
using VQToken.Engine.Compression;
using static TorchSharp.torch;

namespace VQToken.Engine.Tests.Compression;

public class CodebookTests
{
    [Theory]
    [InlineData("parity-a")]
    [InlineData("parity-b")]
    public void Codebook_from_fixture_labels_matches_the_reference_codebook(string fixture)
    {
        using var scope = NewDisposeScope();
        var projected = Fixtures.Read(fixture, "expected", "projected"); // [T, P, D]
        var labels = Fixtures.Read(fixture, "inputs", "labels");         // [T, P]
        var expected = Fixtures.Read(fixture, "expected", "codebook");   // [K, D]

        var codebook = Codebook.FromLabels(projected, labels, (int)expected.shape[0]);

        Assert.Equal(expected.shape, codebook.shape);
        double maxDiff = (codebook - expected).abs().max().item<float>();
        Assert.True(maxDiff <= 1e-4, $"max abs diff {maxDiff}");
    }

    [Fact]
    public void Cluster_without_tokens_gets_a_zero_row()
    {
        using var scope = NewDisposeScope();
        var rows = tensor(new float[] { 3, 4, 0, 2, 1, 0, 2 }, [7]).reshape(7, 1).expand(7, 3).contiguous();
        var labels = tensor(new long[] { 0, 0, 2, 2, 2, 0, 2 });

        var codebook = Codebook.FromLabels(rows, labels, 3);

        Assert.Equal(new long[] { 3, 3 }, codebook.shape);
        Assert.Equal(0f, codebook[1].abs().sum().item<float>());
        Assert.True(codebook[0].abs().sum().item<float>() > 0);
    }

    [Fact]
    public void Codebook_rows_are_means_of_normalised_rows()
    {
        using var scope = NewDisposeScope();
        var rows = tensor(new float[] { 2, 0, 0, 5, 3, 4 }, [3, 2]);
        var labels = tensor(new long[] { 0, 0, 1 });

        var codebook = Codebook.FromLabels(rows, labels, 2);

        var expected = tensor(new float[] { 0.5f, 0.5f, 0.6f, 0.8f }, [2, 2]);
        Assert.True(codebook.allclose(expected, atol: 1e-6));
    }

    [Fact]
    public void Labels_outside_zero_to_K_are_rejected()
    {
        using var scope = NewDisposeScope();
        var rows = ones(4, 3);
        Assert.Throws<ArgumentException>(() => Codebook.FromLabels(rows, tensor(new long[] { 0, 1, 2, 3 }), 3));
        Assert.Throws<ArgumentException>(() => Codebook.FromLabels(rows, tensor(new long[] { 0, 1 }), 3));
    }
}
