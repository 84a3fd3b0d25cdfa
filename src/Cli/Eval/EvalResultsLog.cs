using System.Text.Json;

namespace VQToken.Cli.Eval;

/// <summary>The append-only results file (JSONL, one <see cref="EvalRecord"/> per line, keyed by
/// sample + mode). A run killed mid-write leaves at most one partial last line: it is ignored on
/// reading and that sample is simply answered again.</summary>
public sealed class EvalResultsLog(string path)
{
    public string Path { get; } = path;

    public List<EvalRecord> Read()
    {
        var records = new Dictionary<string, EvalRecord>();
        if (!File.Exists(Path)) return [];
        foreach (var line in File.ReadLines(Path))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                if (JsonSerializer.Deserialize<EvalRecord>(line) is { } record) records[record.Key] = record;
            }
            catch (JsonException)
            {
                // the torn tail of an interrupted write
            }
        }
        return records.Values.ToList();
    }

    public void Append(EvalRecord record)
    {
        using var file = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read);
        // A torn previous line gets its own line end first, so this record stays parseable.
        if (file.Length > 0 && LastByte() != '\n') file.WriteByte((byte)'\n');
        var bytes = JsonSerializer.SerializeToUtf8Bytes(record);
        file.Write(bytes);
        file.WriteByte((byte)'\n');
        file.Flush(flushToDisk: true);
    }

    private int LastByte()
    {
        using var read = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        read.Seek(-1, SeekOrigin.End);
        return read.ReadByte();
    }
}
