using VQToken.Engine.Checkpoints;
using static TorchSharp.torch;

namespace VQToken.Engine.Tests.Support;

/// <summary>An ordered, owned set of named tensors: read from a checkpoint, edited, and written back
/// as a single file or as shards with an index (how the tests build broken or re-laid-out checkpoints).</summary>
internal sealed class TensorSet : IDisposable
{
    private readonly List<KeyValuePair<string, Tensor>> _items = [];

    public IReadOnlyList<KeyValuePair<string, Tensor>> Items => _items;
    public IEnumerable<string> Names => _items.Select(kv => kv.Key);
    public Tensor this[string name] => _items.First(kv => kv.Key == name).Value;
    public bool Contains(string name) => _items.Any(kv => kv.Key == name);

    /// <summary>Every tensor of a checkpoint directory, in name order, as stored.</summary>
    public static TensorSet ReadCheckpoint(string dir)
    {
        var set = new TensorSet();
        using var reader = new CheckpointReader(dir);
        foreach (var name in reader.Names.Order(StringComparer.Ordinal)) set.Set(name, reader.Load(name));
        return set;
    }

    /// <summary>Adds or replaces (and disposes the old) tensor; the set owns <paramref name="value"/>.</summary>
    public void Set(string name, Tensor value)
    {
        value.DetachFromDisposeScope();
        int i = _items.FindIndex(kv => kv.Key == name);
        if (i < 0) _items.Add(new(name, value));
        else
        {
            _items[i].Value.Dispose();
            _items[i] = new(name, value);
        }
    }

    public void Remove(string name)
    {
        int i = _items.FindIndex(kv => kv.Key == name);
        if (i < 0) throw new KeyNotFoundException(name);
        _items[i].Value.Dispose();
        _items.RemoveAt(i);
    }

    /// <summary>Writes <c>model.safetensors</c> into <paramref name="dir"/>.</summary>
    public void Write(string dir) => SafeTensorsWriter.Write(Path.Combine(dir, "model.safetensors"), _items);

    /// <summary>Writes <paramref name="shards"/> files <c>model-0000i-of-0000n.safetensors</c> and
    /// <c>model.safetensors.index.json</c> (tensors dealt round-robin, so every shard holds a mix).</summary>
    public void WriteSharded(string dir, int shards)
    {
        var weightMap = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (int s = 0; s < shards; s++)
        {
            var file = $"model-{s + 1:D5}-of-{shards:D5}.safetensors";
            var part = _items.Where((_, i) => i % shards == s).ToList();
            SafeTensorsWriter.Write(Path.Combine(dir, file), part);
            foreach (var (name, _) in part) weightMap[name] = file;
        }
        long total = _items.Sum(kv => kv.Value.NumberOfElements * kv.Value.ElementSize);
        var index = new { metadata = new { total_size = total }, weight_map = weightMap };
        File.WriteAllText(Path.Combine(dir, CheckpointReader.IndexFileName), System.Text.Json.JsonSerializer.Serialize(index));
    }

    public void Dispose()
    {
        foreach (var (_, t) in _items) t.Dispose();
        _items.Clear();
    }
}
