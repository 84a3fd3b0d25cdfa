namespace VQToken.Cli;

/// <summary>One sub-command of the `vqtoken` CLI. Implementations are discovered by reflection,
/// so adding a command is adding one file.</summary>
public interface ICliCommand
{
    /// <summary>The word after `vqtoken`, e.g. "parity".</summary>
    string Name { get; }
    /// <summary>One line for the usage text, e.g. "parity &lt;fixture-dir&gt;: ...".</summary>
    string Usage { get; }
    /// <summary>Runs with the arguments after the command name; returns the exit code.</summary>
    int Run(string[] args);
}

/// <summary>Dispatches `vqtoken &lt;command&gt; ...` to the command classes.</summary>
public static class CommandLine
{
    public static IReadOnlyList<ICliCommand> Commands { get; } = typeof(CommandLine).Assembly.GetTypes()
        .Where(t => t is { IsAbstract: false, IsInterface: false } && typeof(ICliCommand).IsAssignableFrom(t))
        .Select(t => (ICliCommand)Activator.CreateInstance(t)!)
        .OrderBy(c => c.Name, StringComparer.Ordinal)
        .ToList();

    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.WriteLine("usage: vqtoken <command> [options]\ncommands:");
            foreach (var c in Commands) Console.WriteLine("  " + c.Usage);
            return args.Length == 0 ? 2 : 0;
        }
        var command = Commands.FirstOrDefault(c => c.Name == args[0]);
        if (command is null)
        {
            Console.Error.WriteLine($"unknown command '{args[0]}' (try --help)");
            return 2;
        }
        return command.Run(args[1..]);
    }
}
