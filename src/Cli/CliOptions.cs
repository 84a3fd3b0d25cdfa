using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.RegularExpressions;
using VQToken.Engine.Compression;

namespace VQToken.Cli;

/// <summary>Typed options of the commands: ranges and word choices are checked while parsing, so a bad
/// value is a usage error (exit 2) whose message names the option.</summary>
internal static partial class CliOptions
{
    public delegate bool TryParse<T>(string? text, out T value);

    public static Option<int> Int(string name, string description, int defaultValue, int min = int.MinValue, int max = int.MaxValue) =>
        new(name) { Description = description, HelpName = "N", DefaultValueFactory = _ => defaultValue, CustomParser = r => ParseInt(r, name, min, max) };

    /// <summary>An integer whose default depends on other options (absent = null).</summary>
    public static Option<int?> OptionalInt(string name, string description, int min = int.MinValue, int max = int.MaxValue) =>
        new(name) { Description = description, HelpName = "N", CustomParser = r => ParseInt(r, name, min, max) };

    public static Option<double> Double(string name, string description, double defaultValue, double min) =>
        new(name)
        {
            Description = description, HelpName = "X", DefaultValueFactory = _ => defaultValue,
            CustomParser = r =>
            {
                string text = Single(r);
                if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value) && value >= min)
                    return value;
                r.AddError(string.Create(CultureInfo.InvariantCulture, $"{name} must be a number of at least {min}, got '{text}'"));
                return defaultValue;
            },
        };

    /// <summary>A positive number that may be absent (null).</summary>
    public static Option<double?> OptionalPositive(string name, string description) => OptionalNumber(name, description, zeroAllowed: false);

    /// <summary>An optional number, 0 or more (a time in seconds).</summary>
    public static Option<double?> OptionalNonNegative(string name, string description) => OptionalNumber(name, description, zeroAllowed: true);

    private static Option<double?> OptionalNumber(string name, string description, bool zeroAllowed) =>
        new(name)
        {
            Description = description, HelpName = "X",
            CustomParser = r =>
            {
                string text = Single(r);
                if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value) && (value > 0 || (zeroAllowed && value == 0))) return value;
                r.AddError($"{name} must be a {(zeroAllowed ? "number, 0 or more" : "positive number")}, got '{text}'");
                return null;
            },
        };

    private static int ParseInt(ArgumentResult result, string name, int min, int max)
    {
        string text = Single(result);
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)) result.AddError($"{name} expects an integer, got '{text}'");
        else if (value < min || value > max) result.AddError(RangeMessage(name, value, min, max));
        return value;
    }

    private static string Single(ArgumentResult result) => result.Tokens.Count == 1 ? result.Tokens[0].Value : "";

    public static Option<string> Text(string name, string description, string helpName, string? defaultValue = null, bool required = false)
    {
        var option = new Option<string>(name) { Description = description, HelpName = helpName, Required = required };
        if (defaultValue is not null) option.DefaultValueFactory = _ => defaultValue;
        return option;
    }

    public static Option<bool> Flag(string name, string description) => new(name) { Description = description };

    /// <summary>One of a few words (e.g. official|centered); the default is the first word.</summary>
    public static ChoiceOption<T> Choice<T>(string name, string description, TryParse<T> parse, params string[] words) =>
        new(name, description, parse, words);

    /// <summary>A comma-separated list of words (e.g. --modes full,vqtoken-fixed); the default is all of them.</summary>
    public static ChoiceListOption<T> ChoiceList<T>(string name, string description, TryParse<T> parse, params string[] words) =>
        new(name, description, parse, words);

    public static ChoiceOption<ElbowIndexing> Elbow(string description) =>
        Choice<ElbowIndexing>("--elbow", description, CompressionModes.TryParseElbow, "official", "centered");

    public static ChoiceOption<TokenPath> TokenPath(string name, string description) =>
        Choice<TokenPath>(name, description, CompressionModes.TryParseTokenPath, "codebook", "attention");

    /// <summary>--device as the engine takes it: auto, cpu, cuda or cuda:N.</summary>
    public static Option<string> Device(string defaultValue)
    {
        var option = Text("--device", "auto (CUDA when available), cpu, cuda or cuda:N", "auto|cpu|cuda[:N]", defaultValue);
        option.Validators.Add(r =>
        {
            var device = r.GetValueOrDefault<string>() ?? "";
            if (!DevicePattern().IsMatch(device)) r.AddError($"--device must be auto, cpu, cuda or cuda:N, got '{device}'");
        });
        return option;
    }

    [GeneratedRegex("^(auto|cpu|cuda(:[0-9]+)?)$")]
    private static partial Regex DevicePattern();

    private static string RangeMessage(string name, int value, int min, int max) => (min, max) switch
    {
        (int.MinValue, _) => $"{name} must be at most {max}, got {value}",
        (_, int.MaxValue) => $"{name} must be at least {min}, got {value}",
        _ => $"{name} must be in {min}..{max}, got {value}",
    };
}

/// <summary>An option taking one of a few words; <see cref="ValueIn"/> gives its typed value (help shows the words).</summary>
internal sealed class ChoiceOption<T> : Option<string>
{
    private readonly CliOptions.TryParse<T> _parse;

    public ChoiceOption(string name, string description, CliOptions.TryParse<T> parse, string[] words) : base(name)
    {
        _parse = parse;
        Description = description;
        HelpName = string.Join('|', words);
        DefaultValueFactory = _ => words[0];
        CustomParser = result =>
        {
            string text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
            if (!parse(text, out _))
                result.AddError($"{name} must be {(words.Length == 2 ? $"{words[0]} or {words[1]}" : "one of " + string.Join(", ", words))}, got '{text}'");
            return text;
        };
        CompletionSources.Add(words);
    }

    public T ValueIn(ParseResult parsed) =>
        _parse(parsed.GetValue(this), out var value) ? value : throw new InvalidOperationException($"{Name} was not validated");
}

/// <summary>An option taking a comma-separated list of words; <see cref="ValuesIn"/> gives the typed values, once each.</summary>
internal sealed class ChoiceListOption<T> : Option<string>
{
    private readonly CliOptions.TryParse<T> _parse;

    public ChoiceListOption(string name, string description, CliOptions.TryParse<T> parse, string[] words) : base(name)
    {
        _parse = parse;
        Description = description;
        HelpName = string.Join(',', words);
        DefaultValueFactory = _ => string.Join(',', words);
        CustomParser = result =>
        {
            string text = string.Join(',', result.Tokens.Select(t => t.Value));
            var items = Split(text);
            if (items.Length == 0) result.AddError($"{name} needs at least one of {string.Join(", ", words)}");
            foreach (var bad in items.Where(w => !parse(w, out _)))
                result.AddError($"{name} takes {string.Join(", ", words)}; got '{bad}'");
            return text;
        };
        CompletionSources.Add(words);
    }

    public IReadOnlyList<T> ValuesIn(ParseResult parsed) =>
        Split(parsed.GetValue(this)).Select(w => _parse(w, out var value) ? value : throw new InvalidOperationException($"{Name} was not validated")).Distinct().ToList();

    private static string[] Split(string? text) => (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
