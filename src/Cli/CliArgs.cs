namespace VQToken.Cli;

/// <summary>Minimal option parsing shared by the commands: positional arguments and `--name value`
/// / `--flag` options.</summary>
public sealed class CliArgs
{
    private readonly Dictionary<string, string?> _options = new(StringComparer.Ordinal);
    public List<string> Positional { get; } = [];

    public CliArgs(string[] args, params string[] flags)
    {
        for (int i = 0; i < args.Length; i++)
        {
            var a = args[i];
            if (a.StartsWith("--", StringComparison.Ordinal))
            {
                var name = a[2..];
                var eq = name.IndexOf('=');
                if (eq >= 0) _options[name[..eq]] = name[(eq + 1)..];
                else if (flags.Contains(name) || i + 1 >= args.Length) _options[name] = null;
                else _options[name] = args[++i];
            }
            else Positional.Add(a);
        }
    }

    public bool Has(string name) => _options.ContainsKey(name);
    public string? Get(string name) => _options.GetValueOrDefault(name);
    public string Get(string name, string fallback) => _options.GetValueOrDefault(name) ?? fallback;

    public int GetInt(string name, int fallback)
    {
        var v = Get(name);
        if (v is null) return fallback;
        return int.TryParse(v, out var n) ? n : throw new ArgumentException($"--{name} expects an integer, got '{v}'");
    }
}
