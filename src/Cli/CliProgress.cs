using Spectre.Console;

namespace VQToken.Cli;

/// <summary>Progress of a long command on stderr (stdout stays the command's result): Spectre.Console
/// bars with log lines above them when stderr is a terminal, the plain log lines otherwise (CI, pipes).</summary>
public sealed class CliProgress
{
    private readonly IAnsiConsole? _console;
    private readonly ProgressContext? _context;

    private CliProgress(IAnsiConsole? console, ProgressContext? context) => (_console, _context) = (console, context);

    /// <summary>True when bars are drawn; callers then leave out lines that only counted progress.</summary>
    public bool ShowsBars => _context is not null;

    /// <summary>Runs <paramref name="work"/> with bars on stderr when it is an interactive terminal, plain lines
    /// otherwise; <paramref name="bytes"/> shows amounts and speed as bytes (downloads).</summary>
    public static Task<T> RunAsync<T>(Func<CliProgress, Task<T>> work, bool bytes = false) => RunAsync(work, StderrConsole(), bytes);

    /// <summary>Runs <paramref name="work"/> with bars on <paramref name="console"/>; null: plain lines on stderr.</summary>
    public static async Task<T> RunAsync<T>(Func<CliProgress, Task<T>> work, IAnsiConsole? console, bool bytes = false)
    {
        if (console is null) return await work(new CliProgress(null, null));
        ProgressColumn[] columns = bytes
            ? [new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn(), new RemainingTimeColumn()]
            : [new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn()];
        return await console.Progress().AutoClear(false).HideCompleted(false).Columns(columns)
            .StartAsync(context => work(new CliProgress(console, context)));
    }

    /// <summary>A console on stderr when it is an interactive terminal; null otherwise (plain lines).</summary>
    private static IAnsiConsole? StderrConsole()
    {
        if (Console.IsErrorRedirected) return null;
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        return console.Profile is { Out.IsTerminal: true, Capabilities: { Interactive: true, Ansi: true } } ? console : null;
    }

    /// <summary>One line of log: above the bars, or plainly on stderr.</summary>
    public void Log(string line)
    {
        if (_console is null) Console.Error.WriteLine(line);
        else _console.WriteLine(line);
    }

    /// <summary>A bar from 0 to <paramref name="total"/> (null: unknown yet); a no-op without a terminal.</summary>
    public CliProgressBar AddBar(string description, double? total)
    {
        var task = _context?.AddTask(Markup.Escape(description), autoStart: true, maxValue: total is > 0 ? total.Value : 1);
        if (task is not null) task.IsIndeterminate = total is null;
        return new CliProgressBar(task);
    }
}

/// <summary>One bar of a <see cref="CliProgress"/>; every member does nothing when no bar is drawn.</summary>
public sealed class CliProgressBar
{
    private readonly ProgressTask? _task;

    internal CliProgressBar(ProgressTask? task) => _task = task;

    public void Advance(double by = 1) => _task?.Increment(by);

    public void Describe(string description)
    {
        if (_task is not null) _task.Description = Markup.Escape(description);
    }

    /// <summary>Sets how far it is and, when known, out of how much.</summary>
    public void Set(double value, double? total = null)
    {
        if (_task is null) return;
        if (total is > 0 and var max)
        {
            _task.MaxValue = max;
            _task.IsIndeterminate = false;
        }
        _task.Value = value;
    }

    public void Complete()
    {
        if (_task is null) return;
        _task.IsIndeterminate = false;
        _task.Value = _task.MaxValue;
        _task.StopTask();
    }
}
