using System.Text.Json;
using System.Text.Json.Serialization;
using VQToken.Api.Videos;

namespace VQToken.Api.Storage;

/// <summary>Source-generated JSON for everything the stores persist (no reflection at run time).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = false, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(VideoRecord))]
[JsonSerializable(typeof(CompressionSettings))]
public sealed partial class StorageJsonContext : JsonSerializerContext;
