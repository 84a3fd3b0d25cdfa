using Spectre.Console;
using VQToken.Cli;
using VQToken.Cli.Bench;
using VQToken.Cli.Eval;
using VQToken.Cli.Load;

namespace VQToken.Engine.Tests.Cli;

/// <summary>The `vqtoken` command line: help, typed validation and exit codes (0 ok, 1 failure, 2 usage error).</summary>
[Collection(WholeProcessCollection.Name)]   // swaps Console.Out and Console.Error
public sealed class CommandLineTests
{
    private static readonly string[] AllCommands =
        ["bench", "bench-compress", "bench-ingest", "bench-linear", "bench-load", "bench-peer", "compress", "download-model", "eval", "frames", "load", "make-checkpoint", "parity", "search"];

    [Fact]
    public void Root_help_lists_every_command_and_exits_0()
    {
        var (code, output, _) = Capture(() => VQTokenCli.Run(["--help"]));

        Assert.Equal(0, code);
        var listed = output.Split('\n').SkipWhile(l => !l.StartsWith("Commands:", StringComparison.Ordinal)).Skip(1)
            .Select(l => l.Trim().Split(' ')[0]).Where(w => w.Length > 0).ToList();
        Assert.Equal(AllCommands, listed);
    }

    [Fact]
    public void Every_command_has_help_naming_each_of_its_options()
    {
        foreach (var command in VQTokenCli.CreateCommands())
        {
            var (code, output, _) = Capture(() => VQTokenCli.Run([command.Name, "--help"]));

            Assert.Equal(0, code);
            Assert.Contains($"vqtoken {command.Name}", output);
            Assert.All(command.Options.Select(o => o.Name), name => Assert.Contains(name, output));
        }
    }

    [Fact]
    public void No_command_is_a_usage_error()
    {
        var (code, _, error) = Capture(() => VQTokenCli.Run([]));

        Assert.Equal(2, code);
        Assert.Contains("--help", error);
    }

    [Theory]
    [InlineData("compress", "--elbow", "sideways")]
    [InlineData("compress", "--mode", "full")]           // a mode, but not one compress can run
    [InlineData("eval", "--tokens", "pixels")]
    [InlineData("bench", "--token-path", "pixels")]
    [InlineData("make-checkpoint", "--size", "huge")]
    [InlineData("frames", "--start", "soon")]
    [InlineData("frames", "--end", "0")]
    public void Bad_choice_names_the_option_and_the_value_and_exits_2(string command, string option, string value)
    {
        string[] required = command switch
        {
            "compress" => ["tokens.safetensors"],
            "eval" => ["data.jsonl", "--checkpoint", "ckpt", "--out", "out"],
            "bench" => ["--out", "out"],
            _ => ["dir"],
        };
        var (code, output, error) = Capture(() => VQTokenCli.Run([command, .. required, option, value]));

        Assert.Equal(2, code);
        Assert.Contains(option, error);
        Assert.Contains($"'{value}'", error);
        Assert.Equal("", output);                         // stdout is for results only
    }

    [Theory]
    [InlineData("--scaling-frames", "8,x")]
    [InlineData("--scaling-tiny-frames", "0,1024")]
    public void Bad_frame_count_list_of_the_bench_names_the_option_and_exits_2(string option, string value)
    {
        var (code, output, error) = Capture(() => VQTokenCli.Run(["bench", "--out", "out", option, value]));

        Assert.Equal(2, code);
        Assert.Contains(option, error);
        Assert.Equal("", output);
    }

    [Fact]
    public void Bad_mode_in_the_eval_list_names_the_option()
    {
        var (code, _, error) = Capture(() => new EvalCommand().Run(["data.jsonl", "--checkpoint", "c", "--out", "o", "--modes", "full,everything"]));

        Assert.Equal(2, code);
        Assert.Contains("--modes", error);
        Assert.Contains("'everything'", error);
    }

    [Fact]
    public void Missing_required_option_exits_2_with_a_message_naming_it()
    {
        var (evalCode, _, evalError) = Capture(() => new EvalCommand().Run(["data.jsonl", "--out", "out"]));
        var (loadCode, _, loadError) = Capture(() => new LoadCommand().Run(["--url", "http://127.0.0.1:1/"]));
        var (benchCode, _, benchError) = Capture(() => new BenchCommand().Run(["--smoke"]));

        Assert.Equal((2, 2, 2), (evalCode, loadCode, benchCode));
        Assert.Contains("--checkpoint", evalError);
        Assert.Contains("--video-id", loadError);
        Assert.Contains("--out", benchError);
    }

    [Fact]
    public void Missing_argument_is_named()
    {
        var (code, _, error) = Capture(() => new ParityCommand().Run([]));

        Assert.Equal(2, code);
        Assert.Contains("<fixture-dir>", error);
    }

    [Theory]
    [InlineData("--k", "0", "--k must be at least 1, got 0")]
    [InlineData("--k", "many", "--k expects an integer, got 'many'")]
    [InlineData("--threads", "-2", "--threads must be at least 1, got -2")]
    public void Out_of_range_or_malformed_numbers_name_the_option(string option, string value, string message)
    {
        var (code, _, error) = Capture(() => new CompressCommand().Run(["tokens.safetensors", option, value]));

        Assert.Equal(2, code);
        Assert.Contains(message, error);
    }

    [Fact]
    public void Unknown_option_is_a_usage_error_naming_it()
    {
        var (code, _, error) = Capture(() => new LoadCommand().Run(["--url", "http://127.0.0.1:1/", "--video-id", "v", "--cleints", "3"]));

        Assert.Equal(2, code);
        Assert.Contains("--cleints", error);
    }

    [Fact]
    public void Load_refuses_a_url_that_is_not_http()
    {
        var (code, _, error) = Capture(() => new LoadCommand().Run(["--url", "file:///etc/passwd", "--video-id", "v"]));

        Assert.Equal(2, code);
        Assert.Contains("--url must be an absolute http(s) URL", error);
    }

    [Fact]
    public void Without_a_terminal_progress_is_plain_lines_on_stderr_and_bars_do_nothing()
    {
        var (result, output, error) = Capture(() => CliProgress.RunAsync(progress =>
        {
            var bar = progress.AddBar("download", 100);
            bar.Set(50);
            progress.Log("half way");
            bar.Complete();
            return Task.FromResult(progress.ShowsBars);
        }, console: null).GetAwaiter().GetResult());

        Assert.False(result);
        Assert.Equal("half way", error.Trim());
        Assert.Equal("", output);
    }

    [Fact]
    public async Task On_a_terminal_progress_draws_a_bar_with_the_log_lines_above_it()
    {
        var screen = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.Yes, Interactive = InteractionSupport.Yes, ColorSystem = ColorSystemSupport.NoColors, Out = new AnsiConsoleOutput(screen),
        });

        bool bars = await CliProgress.RunAsync(progress =>
        {
            var bar = progress.AddBar("eval: 4 answers", 4);
            for (int i = 0; i < 4; i++)
            {
                bar.Advance();
                progress.Log($"answer {i}");
            }
            bar.Complete();
            return Task.FromResult(progress.ShowsBars);
        }, console);

        var text = screen.ToString();
        Assert.True(bars);
        Assert.Contains("eval: 4 answers", text);
        Assert.Contains("100%", text);
        Assert.True(text.IndexOf("answer 3", StringComparison.Ordinal) < text.LastIndexOf("eval: 4 answers", StringComparison.Ordinal));
        Assert.Contains("\u001b[", text);                                // drawn with cursor control, not plain lines
    }

    internal static (T Result, string Output, string Error) Capture<T>(Func<T> run)
    {
        var (previousOut, previousError) = (Console.Out, Console.Error);
        var (output, error) = (new StringWriter(), new StringWriter());
        Console.SetOut(output);
        Console.SetError(error);
        try
        {
            return (run(), output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(previousOut);
            Console.SetError(previousError);
        }
    }
}
