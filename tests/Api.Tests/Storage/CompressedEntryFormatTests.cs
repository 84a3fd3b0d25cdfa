using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json;
using VQToken.Api.Storage;
using static VQToken.Api.Tests.Storage.TestVideos;

namespace VQToken.Api.Tests.Storage;

public sealed class CompressedEntryFormatTests
{
    [Fact]
    public void Every_single_byte_flip_anywhere_in_the_file_is_detected()
    {
        var bytes = CompressedEntryFormat.Write(Entry(k: 2, dim: 2, frames: 1, grid: 2));

        for (int i = 0; i < bytes.Length; i++)
        {
            var damaged = (byte[])bytes.Clone();
            damaged[i] ^= 0x01;
            var lookup = CompressedEntryFormat.Read(damaged);
            Assert.True(lookup.Status == CacheLookupStatus.Corrupt, $"flip at byte {i} of {bytes.Length} was not detected");
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    [InlineData(47)]
    public void Truncated_file_is_corrupt(int length)
    {
        var bytes = CompressedEntryFormat.Write(Entry());

        Assert.Equal(CacheLookupStatus.Corrupt, CompressedEntryFormat.Read(bytes.AsSpan(0, length)).Status);
    }

    [Fact]
    public void Unknown_format_version_is_reported_even_with_a_valid_checksum()
    {
        var bytes = CompressedEntryFormat.Write(Entry());
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), 2);
        SHA256.HashData(bytes.AsSpan(0, bytes.Length - 32), bytes.AsSpan(bytes.Length - 32));

        var lookup = CompressedEntryFormat.Read(bytes);

        Assert.Equal(CacheLookupStatus.Corrupt, lookup.Status);
        Assert.Contains("version 2", lookup.Reason);
    }

    [Theory]
    [InlineData(256, "u8")]
    [InlineData(257, "u16")]
    public void Index_map_is_stored_as_uint8_up_to_256_clusters_else_uint16(int k, string dtype)
    {
        var bytes = CompressedEntryFormat.Write(Entry(k: k, dim: 2, frames: 2, grid: 27, withTokens: false));

        var tensors = Header(bytes).Tensors.ToDictionary(t => t.Name);
        Assert.Equal(dtype, tensors["index_map"].DType);
        Assert.Equal(2 * 27 * 27 * (dtype == "u8" ? 1 : 2), tensors["index_map"].Length);
        Assert.Equal(AssertRoundTrip(bytes).IndexMap, Entry(k: k, dim: 2, frames: 2, grid: 27).IndexMap);
    }

    [Fact]
    public void Header_records_fingerprint_settings_and_shapes()
    {
        var entry = Entry(k: 32, dim: 896, frames: 32, grid: 27, precision: FloatPrecision.Float16);
        var bytes = CompressedEntryFormat.Write(entry);

        var header = Header(bytes);

        Assert.Equal("model-a", header.ModelFingerprint);
        Assert.Equal(CompressionSettings.Fixed(32, 32), header.Settings);
        Assert.Equal([32L, 896], header.Tensors[0].Shape);
        Assert.Equal("f16", header.Tensors[0].DType);
        Assert.Equal([32L, 27, 27], header.Tensors[1].Shape);
        Assert.Equal([33L, 896], header.Tensors[2].Shape);
        AssertSameEntry(entry, AssertRoundTrip(bytes));
    }

    [Fact]
    public void Full_mode_entry_holds_tokens_without_codebook()
    {
        var entry = new CompressedVideoEntry
        {
            ModelFingerprint = "model-a", Settings = CompressionSettings.FullTokens(2), Dim = 4,
            Codebook = [], Frames = 0, GridHeight = 0, GridWidth = 0, IndexMap = [],
            Tokens = [1, 2, 3, 4, 5, 6, 7, 8], Precision = FloatPrecision.Float32,
        };

        AssertSameEntry(entry, AssertRoundTrip(CompressedEntryFormat.Write(entry)));
    }

    private static CompressedVideoEntry AssertRoundTrip(byte[] bytes)
    {
        var lookup = CompressedEntryFormat.Read(bytes);
        Assert.True(lookup.Status == CacheLookupStatus.Hit, lookup.Reason);
        return lookup.Entry!;
    }

    private static CompressedEntryHeader Header(byte[] bytes)
    {
        int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(12));
        return JsonSerializer.Deserialize(bytes.AsSpan(16, length), StorageJsonContext.Default.CompressedEntryHeader)!;
    }
}
