using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace VQToken.Api.Tests.OpenAi;

/// <summary>Runs a program to completion with a time limit; failures become exceptions that say what ran.</summary>
/// <remarks>Copy of tests/Engine.Tests/Text/ExternalProcess.cs (Api.Tests does not reference Engine.Tests):
/// to be deduplicated into a shared test-support project.</remarks>
internal static class ExternalProcess
{
    public static string Run(string program, IEnumerable<string> arguments, string workingDirectory, TimeSpan timeout, string missingHint)
    {
        var info = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments) info.ArgumentList.Add(argument);
        string commandLine = $"{program} {string.Join(' ', info.ArgumentList)}";

        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start '{commandLine}'.");
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException($"'{program}' was not found or could not run ({e.Message}). {missingHint}", e);
        }

        using (process)
        {
            var output = new StringBuilder();
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();

            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                throw new TimeoutException($"'{commandLine}' did not finish within {timeout.TotalSeconds:0} s. Output:\n{Tail(output)}");
            }
            process.WaitForExit(); // drain the output readers
            if (process.ExitCode != 0)
                throw new InvalidOperationException($"'{commandLine}' failed with exit code {process.ExitCode}. Output:\n{Tail(output)}");
            return output.ToString();
        }
    }

    private static string Tail(StringBuilder output)
    {
        lock (output)
        {
            string text = output.ToString();
            return text.Length <= 4000 ? text : "..." + text[^4000..];
        }
    }
}
