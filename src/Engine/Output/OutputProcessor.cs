using System.Text;
using VQToken.Engine.Generation;
using VQToken.Engine.Text;

namespace VQToken.Engine.Output;

/// <summary>
/// Turns one sequence's generated ids into the answer text, as every front door reports it (HTTP ask,
/// OpenAI route, eval, bench): UTF-8-safe streaming detokenisation (special tokens skipped), stop
/// strings (the text from the first match on is dropped; text that could still start one is held back
/// until decided), the finish reason and the completion token count. One per sequence, not thread-safe.
/// </summary>
public sealed class OutputProcessor
{
    private readonly StreamingDetokenizer _detokenizer;
    private readonly IReadOnlyList<string> _stops;
    private readonly int _holdBack;
    private readonly StringBuilder _text = new();
    private int _emitted;

    public OutputProcessor(QwenTokenizer tokenizer, IReadOnlyList<string>? stopStrings = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        _detokenizer = tokenizer.CreateStreamingDetokenizer();
        _stops = stopStrings?.Where(s => s.Length > 0).ToArray() ?? [];
        _holdBack = _stops.Count == 0 ? 0 : _stops.Max(s => s.Length) - 1;
    }

    /// <summary>The answer so far (final once <see cref="FinishReason"/> is set).</summary>
    public string Text => _text.ToString();

    /// <summary>Ids pushed (the completion's token count; a stop string's tokens included).</summary>
    public int CompletionTokens { get; private set; }

    /// <summary>Null while the answer goes on; Stop (a stop id or stop string) or Length once it ended.</summary>
    public FinishReason? FinishReason { get; private set; }

    /// <summary>True when a stop string ended the answer: the caller stops generating.</summary>
    public bool StoppedByString { get; private set; }

    /// <summary>Adds one generated id; returns the text that is now final (possibly empty).</summary>
    public string Push(long id)
    {
        if (FinishReason is not null) throw new InvalidOperationException("the answer has already finished");
        CompletionTokens++;
        _text.Append(_detokenizer.Push((int)id));
        int cut = FirstStop();
        if (cut >= 0)
        {
            _text.Length = cut;
            FinishReason = Generation.FinishReason.Stop;
            StoppedByString = true;
            return Release(_text.Length);
        }
        return Release(Math.Max(_emitted, _text.Length - _holdBack));
    }

    /// <summary>Ends the answer the way the engine ended it; returns the text still held back. After a
    /// stop string this returns nothing and keeps the stop reason.</summary>
    public string Complete(FinishReason engineReason)
    {
        if (FinishReason is not null) return Release(_text.Length);
        _text.Append(_detokenizer.Flush());
        FinishReason = engineReason;
        return Release(_text.Length);
    }

    /// <summary>Decodes a finished generation in one go (eval, bench, tests): the same text the streamed
    /// path produces for the same ids.</summary>
    public static OutputProcessor Decode(QwenTokenizer tokenizer, IReadOnlyList<string>? stopStrings, IEnumerable<long> ids, FinishReason engineReason)
    {
        var output = new OutputProcessor(tokenizer, stopStrings);
        foreach (var id in ids)
        {
            output.Push(id);
            if (output.StoppedByString) break;
        }
        output.Complete(engineReason);
        return output;
    }

    private string Release(int upTo)
    {
        if (upTo <= _emitted) return string.Empty;
        var piece = _text.ToString(_emitted, upTo - _emitted);
        _emitted = upTo;
        return piece;
    }

    private int FirstStop()
    {
        if (_stops.Count == 0) return -1;
        // A new match can only end in the newly added text, so search from where one could start.
        int from = Math.Max(0, _emitted - _holdBack);
        var tail = _text.ToString(from, _text.Length - from);
        int best = -1;
        foreach (var stop in _stops)
        {
            int at = tail.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (best < 0 || at < best)) best = at;
        }
        return best < 0 ? -1 : from + best;
    }
}
