using VQToken.Api.Cache;
using VQToken.Engine.Checkpoints;
using static VQToken.Api.Tests.Storage.TestVideos;

namespace VQToken.Api.Tests.Storage;

public sealed class CacheEntryFileTests
{
    [Fact]
    public void Every_single_byte_flip_anywhere_in_the_file_is_detected()
    {
        var bytes = CacheEntryFile.Write(Entry(k: 2, dim: 2, frames: 1, grid: 2));

        for (int i = 0; i < bytes.Length; i++)
        {
            var damaged = (byte[])bytes.Clone();
            damaged[i] ^= 0x01;
            var lookup = CacheEntryFile.Read(damaged);
            Assert.True(lookup.Status == CacheLookupStatus.Corrupt, $"flip at byte {i} of {bytes.Length} was not detected");
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    [InlineData(100)]
    public void Truncated_file_is_corrupt(int cut)
    {
        var bytes = CacheEntryFile.Write(Entry());

        Assert.Equal(CacheLookupStatus.Corrupt, CacheEntryFile.Read(bytes.AsMemory(0, Math.Min(cut, bytes.Length - 1))).Status);
        Assert.Equal(CacheLookupStatus.Corrupt, CacheEntryFile.Read(bytes.AsMemory(0, bytes.Length - 1)).Status);
    }

    [Fact]
    public void Entry_is_a_safetensors_file_with_codebook_index_map_and_its_settings_in_the_metadata()
    {
        var entry = Entry(k: 32, dim: 16, frames: 4, grid: 27);

        var (tensors, metadata) = SafeTensorsBytes.Read(CacheEntryFile.Write(entry));

        Assert.Equal("F32", tensors["codebook"].DType);
        Assert.Equal([32L, 16], tensors["codebook"].Shape);
        Assert.Equal("I16", tensors["index_map"].DType);
        Assert.Equal([4L, 27, 27], tensors["index_map"].Shape);
        Assert.Equal(CacheEntryFile.Format, metadata["format"]);
        Assert.Equal("model-a", metadata["model_fingerprint"]);
        Assert.Contains("\"mode\":\"vqtoken-fixed\"", metadata["settings"]);
        Assert.Equal(64, metadata["sha256"].Length);
        AssertSameEntry(entry, CacheEntryFile.Read(CacheEntryFile.Write(entry)).Entry);
    }

    [Fact]
    public void Full_mode_entry_holds_tokens_without_codebook()
    {
        var entry = FullEntry();

        var (tensors, _) = SafeTensorsBytes.Read(CacheEntryFile.Write(entry));

        Assert.Equal(["tokens"], tensors.Keys);
        AssertSameEntry(entry, CacheEntryFile.Read(CacheEntryFile.Write(entry)).Entry);
    }

    [Fact]
    public void Entry_of_the_previous_format_is_a_miss_not_corrupt_and_never_decoded()
    {
        var lookup = CacheEntryFile.Read(PreviousCacheFormat.Write(Entry()));

        Assert.Equal(CacheLookupStatus.Miss, lookup.Status);
        Assert.Null(lookup.Entry);
    }

    [Fact]
    public void Metadata_edited_with_a_valid_layout_fails_the_checksum()
    {
        var entry = Entry();
        var (tensors, metadata) = SafeTensorsBytes.Read(CacheEntryFile.Write(entry));
        var edited = metadata.ToDictionary();
        edited["model_fingerprint"] = "model-b";

        var lookup = CacheEntryFile.Read(SafeTensorsBytes.Write([tensors["codebook"], tensors["index_map"]], edited));

        Assert.Equal(CacheLookupStatus.Corrupt, lookup.Status);
        Assert.Contains("checksum", lookup.Reason);
    }

    [Fact]
    public void Frame_times_round_trip_as_an_f32_tensor_in_both_modes()
    {
        foreach (var entry in new[] { Entry(frames: 3) with { FrameTimes = [0, 1.5, 3600.25] }, FullEntry(frames: 2) with { FrameTimes = [0.04, 60.027] } })
        {
            var bytes = CacheEntryFile.Write(entry);
            var (tensors, _) = SafeTensorsBytes.Read(bytes);

            Assert.Equal("F32", tensors["frame_times"].DType);
            Assert.Equal([(long)entry.Encoding.Frames], tensors["frame_times"].Shape);
            var read = CacheEntryFile.Read(bytes).Entry;
            AssertSameEntry(entry, read);
            Assert.Equal(entry.FrameTimes, read!.FrameTimes);
        }
    }

    [Fact]
    public void Entry_written_without_frame_times_still_loads_without_them()
    {
        var entry = Entry(frames: 2);
        Assert.Null(entry.FrameTimes);

        var bytes = CacheEntryFile.Write(entry);

        Assert.DoesNotContain("frame_times", SafeTensorsBytes.Read(bytes).Tensors.Keys);
        var lookup = CacheEntryFile.Read(bytes);
        Assert.Equal(CacheLookupStatus.Hit, lookup.Status);
        Assert.Null(lookup.Entry!.FrameTimes);
        AssertSameEntry(entry, lookup.Entry);
    }

    [Fact]
    public void Frame_times_of_another_frame_count_are_refused_on_write()
    {
        Assert.Throws<ArgumentException>(() => CacheEntryFile.Write(Entry(frames: 2) with { FrameTimes = [0, 1, 2] }));
    }
}
