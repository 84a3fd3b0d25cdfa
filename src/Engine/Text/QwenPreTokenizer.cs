using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace VQToken.Engine.Text;

/// <summary>
/// Qwen2's pre-tokenizer: the "Split" regex of tokenizer.json with "Isolated" behaviour (matches and
/// the gaps between them both become pieces). Special tokens are split off before this runs, by
/// <see cref="QwenTokenizer"/>, so this class never sees them.
/// </summary>
/// <remarks>
/// .NET regexes see UTF-16 code units, Hugging Face's see code points: an astral letter such as
/// U+20000 would be two "surrogate" units to .NET and fall out of <c>\p{L}</c>. Text holding
/// surrogate pairs is therefore matched on a stand-in string with one character per code point
/// (letters as 'x', numbers as '0', anything else as a private-use character), and the matches are
/// mapped back to the original offsets.
/// </remarks>
internal sealed class QwenPreTokenizer : PreTokenizer
{
    /// <summary>The pattern of Qwen2 / Qwen2.5 / Qwen3 tokenizer.json files.</summary>
    public const string Qwen2Pattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    private const char LetterStandIn = 'x';
    private const char NumberStandIn = '0';
    private const char OtherStandIn = '\uE000';

    private readonly Regex _regex;

    public QwenPreTokenizer(string? pattern = null)
    {
        _regex = new Regex(pattern ?? Qwen2Pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant);
    }

    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) => PreTokenize(text.AsSpan());

    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty) return [];
        bool hasSurrogates = text.IndexOfAnyInRange('\uD800', '\uDFFF') >= 0;
        return hasSurrogates ? SplitByCodePoints(text) : Split(text, null);
    }

    private List<(int Offset, int Length)> SplitByCodePoints(ReadOnlySpan<char> text)
    {
        var standIn = new char[text.Length];
        var originalOffset = new int[text.Length + 1]; // stand-in index -> index in text
        int n = 0;
        for (int i = 0; i < text.Length; n++)
        {
            originalOffset[n] = i;
            if (Rune.DecodeFromUtf16(text[i..], out Rune rune, out int used) == System.Buffers.OperationStatus.Done && used == 2)
            {
                standIn[n] = StandInFor(rune);
                i += 2;
            }
            else
            {
                standIn[n] = text[i];
                i += 1;
            }
        }
        originalOffset[n] = text.Length;
        return Split(standIn.AsSpan(0, n), originalOffset);
    }

    private static char StandInFor(Rune rune) => Rune.GetUnicodeCategory(rune) switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => LetterStandIn,
        UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => NumberStandIn,
        _ => OtherStandIn, // no astral code point is white space
    };

    /// <summary>Matches and gaps, in order; offsets mapped through <paramref name="originalOffset"/> when given.</summary>
    private List<(int Offset, int Length)> Split(ReadOnlySpan<char> text, int[]? originalOffset)
    {
        var pieces = new List<(int Offset, int Length)>();
        int Map(int i) => originalOffset is null ? i : originalOffset[i];
        void Add(int start, int end)
        {
            if (end > start) pieces.Add((Map(start), Map(end) - Map(start)));
        }

        int position = 0;
        foreach (ValueMatch match in _regex.EnumerateMatches(text))
        {
            Add(position, match.Index);
            Add(match.Index, match.Index + match.Length);
            position = match.Index + match.Length;
        }
        Add(position, text.Length);
        return pieces;
    }
}
