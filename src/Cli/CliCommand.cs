using System.CommandLine;

namespace VQToken.Cli;

/// <summary>One sub-command of `vqtoken`: its options are declared, typed and validated with
/// System.CommandLine; <see cref="Run"/> runs it alone (tests) with the arguments after its name.</summary>
public abstract class CliCommand : Command
{
    protected CliCommand(string name, string description) : base(name, description) =>
        SetAction(Execute);

    /// <summary>Runs with a parse free of errors; returns the exit code.</summary>
    protected abstract int Execute(ParseResult parsed);

    /// <summary>`vqtoken NAME args...` with only this command registered (same parsing, help and exit codes).</summary>
    public int Run(string[] args) => VQTokenCli.Invoke(VQTokenCli.CreateRoot(this), [Name, .. args]);
}
