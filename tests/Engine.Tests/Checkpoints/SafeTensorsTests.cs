using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using VQToken.Engine.Checkpoints;
using VQToken.Engine.Tests.Support;
using static TorchSharp.torch;

namespace VQToken.Engine.Tests.Checkpoints;

public class SafeTensorsTests
{
    // Exactly representable in float16 and bfloat16 (8 significant bits at most, small exponents).
    private static readonly float[] Representable = [1f, -2f, 0.5f, 3.25f, 1024f, -0.0078125f, 0f, 96f];

    [Fact]
    public void Tensors_of_every_dtype_read_back_with_the_same_dtype_shape_and_values()
    {
        using var temp = new TempDir();
        using var scope = NewDisposeScope();
        long[] int64 = [long.MaxValue, -1, 0, 1L << 40, long.MinValue, 7];
        byte[] uint8 = [0, 1, 127, 128, 255, 42];
        var written = new List<KeyValuePair<string, Tensor>>
        {
            new("f32", tensor(Representable.Select(v => v * 1.1f).ToArray(), [2, 4])),
            new("f16", tensor(Representable, [4, 2]).to_type(ScalarType.Float16)),
            new("bf16", tensor(Representable, [8]).to_type(ScalarType.BFloat16)),
            new("i64", tensor(int64, [3, 2])),
            new("u8", tensor(uint8, [2, 3])),
            new("scalar", tensor(3.5f)),
            new("empty", zeros([0, 5])),
        };
        var path = temp.File("all.safetensors");

        SafeTensorsWriter.Write(path, written);
        using var file = new SafeTensorsFile(path);

        Assert.Equal(written.Select(kv => kv.Key).Order(), file.Tensors.Keys.Order());
        foreach (var (name, original) in written)
        {
            var read = file.Read(name);
            Assert.Equal(original.dtype, read.dtype);
            Assert.Equal(original.shape, read.shape);
            Assert.True(Managed.Identical(read, original), $"{name}: values differ after the round trip");
        }
        Assert.Equal(Representable, file.Read("bf16").to_type(ScalarType.Float32).data<float>().ToArray());
        Assert.Equal(Representable, file.Read("f16").to_type(ScalarType.Float32).data<float>().ToArray());
        Assert.Equal(int64, file.Read("i64").data<long>().ToArray());
        Assert.Equal(uint8, file.Read("u8").data<byte>().ToArray());
    }

    [Fact]
    public void Bfloat16_and_float16_values_are_stored_as_their_little_endian_bit_patterns()
    {
        using var temp = new TempDir();
        using var scope = NewDisposeScope();
        var path = temp.File("bits.safetensors");
        SafeTensorsWriter.Write(path, new List<KeyValuePair<string, Tensor>>
        {
            new("bf16", tensor(new[] { 1f, -2f, 0.5f }).to_type(ScalarType.BFloat16)),
            new("f16", tensor(new[] { 1f, -2f }).to_type(ScalarType.Float16)),
        });

        var bytes = File.ReadAllBytes(path);
        long dataStart = 8 + BinaryPrimitives.ReadInt64LittleEndian(bytes);
        var data = bytes.AsSpan((int)dataStart).ToArray();

        // bf16: 1.0 = 0x3F80, -2.0 = 0xC000, 0.5 = 0x3F00; f16: 1.0 = 0x3C00, -2.0 = 0xC000.
        Assert.Equal(new byte[] { 0x80, 0x3F, 0x00, 0xC0, 0x00, 0x3F, 0x00, 0x3C, 0x00, 0xC0 }, data);
    }

    [Fact]
    public void Header_is_padded_to_8_bytes_and_offsets_tile_the_data_in_order()
    {
        using var temp = new TempDir();
        using var scope = NewDisposeScope();
        var path = temp.File("layout.safetensors");
        SafeTensorsWriter.Write(path, new List<KeyValuePair<string, Tensor>>
        {
            new("a", zeros([3], ScalarType.Byte)),
            new("b", ones([2, 3])),
            new("c", ones([5], ScalarType.BFloat16)),
            new("d", ones([1], ScalarType.Int64)),
        }, new Dictionary<string, string> { ["format"] = "pt" });

        var bytes = File.ReadAllBytes(path);
        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        Assert.Equal(0, headerLength % 8);
        using var header = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
        Assert.Equal("pt", header.RootElement.GetProperty("__metadata__").GetProperty("format").GetString());
        long expectedBegin = 0;
        foreach (var (name, size) in new[] { ("a", 3L), ("b", 24L), ("c", 10L), ("d", 8L) })
        {
            var offsets = header.RootElement.GetProperty(name).GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            Assert.Equal(new[] { expectedBegin, expectedBegin + size }, offsets);
            expectedBegin += size;
        }
        Assert.Equal(8 + headerLength + expectedBegin, bytes.Length);
        using var file = new SafeTensorsFile(path);
        Assert.Equal("pt", file.Metadata["format"]);
    }

    [Theory]
    [InlineData("length beyond the file", """{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 8, 4096L)]
    [InlineData("zero length", """{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 8, 0L)]
    [InlineData("negative length (u64 above 2^63)", """{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 8, -5L)]
    [InlineData("offsets past the data", """{"t":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""", 8, null)]
    [InlineData("negative begin", """{"t":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}""", 8, null)]
    [InlineData("offsets disagree with the shape", """{"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", 12, null)]
    [InlineData("end before begin", """{"t":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}}""", 8, null)]
    [InlineData("one offset", """{"t":{"dtype":"F32","shape":[2],"data_offsets":[8]}}""", 8, null)]
    [InlineData("three offsets", """{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8,8]}}""", 8, null)]
    [InlineData("negative dimensions", """{"t":{"dtype":"F32","shape":[-1,-1],"data_offsets":[0,4]}}""", 4, null)]
    [InlineData("no dtype", """{"t":{"shape":[2],"data_offsets":[0,8]}}""", 8, null)]
    [InlineData("shape not a list", """{"t":{"dtype":"F32","shape":2,"data_offsets":[0,8]}}""", 8, null)]
    [InlineData("entry not an object", """{"t":[1,2,3]}""", 8, null)]
    [InlineData("not JSON", """{"t":{"dtype":"F32",""", 8, null)]
    [InlineData("JSON but not an object", """[1,2]""", 8, null)]
    public void Corrupted_header_is_rejected_with_InvalidDataException(string why, string header, int dataBytes, long? declaredLength)
    {
        using var temp = new TempDir();
        var path = temp.File("bad.safetensors");
        var headerBytes = Encoding.UTF8.GetBytes(header);
        var content = new byte[8 + headerBytes.Length + dataBytes];
        BinaryPrimitives.WriteInt64LittleEndian(content, declaredLength ?? headerBytes.Length);
        headerBytes.CopyTo(content, 8);
        File.WriteAllBytes(path, content);

        var error = Assert.Throws<InvalidDataException>(() => new SafeTensorsFile(path).Dispose());
        Assert.True(error.Message.Contains(path), $"{why}: the message should name the file: {error.Message}");
    }

    [Fact]
    public void File_shorter_than_the_length_prefix_is_rejected()
    {
        using var temp = new TempDir();
        var path = temp.File("short.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);

        Assert.Throws<InvalidDataException>(() => new SafeTensorsFile(path).Dispose());
    }
}
