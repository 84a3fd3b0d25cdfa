namespace VQToken.Api.Storage;

/// <summary>One array in a cached entry: dtype "f16" | "f32" | "u8" | "u16", row-major shape, and
/// its byte range relative to the start of the payload.</summary>
public sealed record CompressedEntryTensor(string Name, string DType, long[] Shape, long Offset, long Length);
