namespace VQToken.Cli;

/// <summary>Dispatches `vqtoken &lt;command&gt; ...` to the command classes.</summary>
public static class CommandLine
{
    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            Console.WriteLine("usage: vqtoken <command> [options]\ncommands: (none yet)");
            return args.Length == 0 ? 2 : 0;
        }
        Console.Error.WriteLine($"unknown command '{args[0]}'");
        return 2;
    }
}
