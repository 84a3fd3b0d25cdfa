using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;

namespace VQToken.Cli;

/// <summary>The `vqtoken` root command. Exit codes: 0 ok, 1 failure or mismatch, 2 usage error (the
/// message names the offending option or argument).</summary>
public static class VQTokenCli
{
    public const int UsageError = 2;

    /// <summary>Every sub-command; discovered by reflection, so adding a command is adding one file.</summary>
    public static IReadOnlyList<CliCommand> CreateCommands() => typeof(VQTokenCli).Assembly.GetTypes()
        .Where(t => t is { IsAbstract: false } && typeof(CliCommand).IsAssignableFrom(t))
        .Select(t => (CliCommand)Activator.CreateInstance(t)!)
        .OrderBy(c => c.Name, StringComparer.Ordinal)
        .ToList();

    /// <summary>The root, named `vqtoken` whatever the host process is (help reads the same under `dotnet test`).</summary>
    public static Command CreateRoot(params IEnumerable<CliCommand> commands)
    {
        var root = new Command("vqtoken", "VQToken service tools: parity checks, compression, frame sampling, benchmarks, evaluation, model download.")
        {
            new HelpOption(), new VersionOption(),
        };
        foreach (var command in commands) root.Add(command);
        return root;
    }

    public static int Run(string[] args) => Invoke(CreateRoot(CreateCommands()), args);

    /// <summary>Parses and runs; parse errors go to stderr with exit code 2 (System.CommandLine's own
    /// default would be 1, which here means a failed run).</summary>
    public static int Invoke(Command root, string[] args)
    {
        var parsed = root.Parse(args);
        if (parsed.Action is not HelpAction && parsed.Errors.Count > 0)
        {
            var command = parsed.CommandResult.Command;
            string name = command == root ? root.Name : $"{root.Name} {command.Name}";
            foreach (var error in parsed.Errors) Console.Error.WriteLine($"{name}: {Describe(error)}");
            Console.Error.WriteLine($"(see `{name} --help`)");
            return UsageError;
        }
        return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
    }

    /// <summary>The parser's message, except that a missing argument is named (it only names the command).</summary>
    private static string Describe(ParseError error) =>
        error.SymbolResult is ArgumentResult { Argument: var argument, Tokens.Count: 0 } &&
        error.Message.StartsWith("Required argument missing", StringComparison.Ordinal)
            ? $"missing argument <{argument.Name}>"
            : error.Message;
}
