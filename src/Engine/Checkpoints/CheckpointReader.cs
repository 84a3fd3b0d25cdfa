using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace VQToken.Engine.Checkpoints;

/// <summary>All weights of a checkpoint directory: a single <c>model.safetensors</c>, or shards listed
/// by <c>model.safetensors.index.json</c> (its <c>weight_map</c>), or else every *.safetensors file.
/// Tensors are read one at a time, converted to the target dtype and moved to the target device.</summary>
public sealed class CheckpointReader : IDisposable
{
    public const string IndexFileName = "model.safetensors.index.json";
    private readonly Dictionary<string, SafeTensorsFile> _fileOf = new(StringComparer.Ordinal);
    private readonly List<SafeTensorsFile> _files = [];

    public string Directory { get; }

    public CheckpointReader(string directory)
    {
        Directory = directory;
        var indexPath = System.IO.Path.Combine(directory, IndexFileName);
        try
        {
            if (File.Exists(indexPath)) OpenSharded(indexPath);
            else
            {
                var files = System.IO.Directory.GetFiles(directory, "*.safetensors").Order(StringComparer.Ordinal).ToList();
                if (files.Count == 0) throw new FileNotFoundException($"no *.safetensors weights in '{directory}'");
                foreach (var f in files) Add(new SafeTensorsFile(f), null);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private void OpenSharded(string indexPath)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(indexPath));
        if (!doc.RootElement.TryGetProperty("weight_map", out var map))
            throw new InvalidDataException($"{indexPath}: no 'weight_map'");
        var byShard = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var entry in map.EnumerateObject())
        {
            var shard = entry.Value.GetString() ?? throw new InvalidDataException($"{indexPath}: bad entry for '{entry.Name}'");
            if (shard.Contains('/') || shard.Contains('\\')) throw new InvalidDataException($"{indexPath}: shard name '{shard}' must be a plain file name");
            if (!byShard.TryGetValue(shard, out var names)) byShard[shard] = names = [];
            names.Add(entry.Name);
        }
        foreach (var (shard, names) in byShard.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var path = System.IO.Path.Combine(Directory, shard);
            if (!File.Exists(path)) throw new FileNotFoundException($"shard '{shard}' listed in {IndexFileName} is missing", path);
            var file = new SafeTensorsFile(path);
            var absent = names.FirstOrDefault(n => !file.Tensors.ContainsKey(n));
            if (absent is not null)
            {
                file.Dispose();
                throw new InvalidDataException($"{IndexFileName} maps '{absent}' to '{shard}', which does not contain it");
            }
            Add(file, names);
        }
    }

    private void Add(SafeTensorsFile file, IEnumerable<string>? names)
    {
        _files.Add(file);
        foreach (var n in names ?? file.Tensors.Keys) _fileOf[n] = file;
    }

    public IEnumerable<string> Names => _fileOf.Keys;
    public bool Contains(string name) => _fileOf.ContainsKey(name);
    public SafeTensorInfo Info(string name) => Find(name).Tensors[name];

    /// <summary>Total bytes of all tensors as stored.</summary>
    public long StoredBytes => _fileOf.Sum(kv => kv.Value.Tensors[kv.Key].ByteLength);

    /// <summary>Reads tensor <paramref name="name"/>, converted to <paramref name="dtype"/> (when
    /// given and floating) on <paramref name="device"/> (CPU when null).</summary>
    public Tensor Load(string name, ScalarType? dtype = null, Device? device = null)
    {
        var raw = Find(name).Read(name);
        bool convert = dtype is { } d && d != raw.dtype && raw.is_floating_point();
        if (!convert && (device is null || device.type == DeviceType.CPU)) return raw;
        using (raw) return raw.to(convert ? dtype!.Value : raw.dtype, device ?? CPU);
    }

    /// <summary>Reads tensor <paramref name="name"/> straight into <paramref name="target"/> when it is a
    /// contiguous CPU tensor of the stored dtype (no transient copy); false when it is not.</summary>
    public bool TryLoadInto(string name, Tensor target)
    {
        var file = Find(name);
        var info = file.Tensors[name];
        if (target.device_type != DeviceType.CPU || !target.is_contiguous() || target.dtype != SafeTensorsDType.ToScalarType(info.DType)) return false;
        file.ReadInto(name, target);
        return true;
    }

    private SafeTensorsFile Find(string name) =>
        _fileOf.TryGetValue(name, out var f) ? f : throw new KeyNotFoundException($"checkpoint '{Directory}' has no tensor '{name}'");

    public void Dispose()
    {
        foreach (var f in _files) f.Dispose();
        _files.Clear();
        _fileOf.Clear();
    }
}
