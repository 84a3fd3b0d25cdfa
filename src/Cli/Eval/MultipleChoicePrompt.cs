using System.Text;
using System.Text.RegularExpressions;

namespace VQToken.Cli.Eval;

/// <summary>The NExT-QA multiple-choice prompt of lmms-eval and the scoring of its answers.</summary>
public static partial class MultipleChoicePrompt
{
    public const string PostPrompt = "Answer with the option's letter from the given choices directly.";

    /// <summary>question, then one "A. option" line per option, then the instruction.</summary>
    public static string Build(string question, IReadOnlyList<string> options)
    {
        var b = new StringBuilder(question.Trim());
        for (int i = 0; i < options.Count; i++) b.Append('\n').Append((char)('A' + i)).Append(". ").Append(options[i].Trim());
        return b.Append('\n').Append(PostPrompt).ToString();
    }

    /// <summary>The option letter an answer names: "B", "B.", "(B) …", "Answer: B" → 'B'; null when none.</summary>
    public static char? ParseLetter(string output, int optionCount)
    {
        foreach (Match m in Letter().Matches(output))
        {
            char c = m.Groups[1].Value[0];
            if (c - 'A' < optionCount) return c;
        }
        return null;
    }

    [GeneratedRegex(@"(?<![A-Za-z])([A-Z])(?![A-Za-z])")]
    private static partial Regex Letter();
}
