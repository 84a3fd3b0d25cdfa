using System.Reflection;
using System.Runtime.Loader;

namespace VQToken.Engine.Tests.Scheduling;

/// <summary>Proof that scheduling needs no TorchSharp: a private copy of the engine assembly, in its own
/// load context, schedules asks to completion against a fake runner, and the context never asks for the
/// TorchSharp assembly (the rest of this test process has it loaded, so the check must be per context).</summary>
public sealed class SchedulerWithoutTorchTests
{
    private sealed class RecordingContext(string engine) : AssemblyLoadContext("scheduling-without-torch")
    {
        public readonly List<string> Requested = [];

        protected override Assembly? Load(AssemblyName name)
        {
            lock (Requested) Requested.Add(name.Name ?? "");
            return name.Name == "VQToken.Engine" ? LoadFromAssemblyPath(engine) : null;   // the rest from the default context
        }
    }

    /// <summary>The fake runner: every ask's prefix needs computing, its tokens are 100, 101, ...</summary>
    public class FakeRunnerProxy : DispatchProxy
    {
        public int Decodes;

        protected override object? Invoke(MethodInfo? method, object?[]? args)
        {
            static object? Get(object o, string name) => o.GetType().GetProperty(name)?.GetValue(o) ?? o.GetType().GetField(name)!.GetValue(o);
            switch (method!.Name)
            {
                case "StartAsk":
                    return ((long[])Get(args![0]!, "PrefixIds")!).Length - 1 + (int)Get(args[0]!, "VisualTokens")!;
                case "PrefillQuestions":
                    var chunks = ((System.Collections.IEnumerable)args![0]!).Cast<object>().ToList();
                    return chunks.Select(c => (bool)Get(c, "Completes")! ? 100L : (long?)null).ToArray();
                case "Decode":
                    Decodes++;
                    var asks = ((System.Collections.IEnumerable)args![0]!).Cast<object>().ToList();
                    return asks.Select(a => 100L + ((System.Collections.ICollection)Get(a, "Tokens")!).Count).ToArray();
                case "StartCompression":
                case "CompressSlice":
                    return true;
                default:
                    return null;   // PrefillPrefix, EncodeFrames, Release
            }
        }
    }

    [Fact]
    public void Asks_are_scheduled_to_completion_without_the_TorchSharp_assembly()
    {
        var context = new RecordingContext(typeof(VQToken.Engine.Scheduling.Scheduler).Assembly.Location);
        var engine = context.LoadFromAssemblyName(new AssemblyName("VQToken.Engine"));
        Assert.NotSame(typeof(VQToken.Engine.Scheduling.Scheduler).Assembly, engine);
        Type T(string name) => engine.GetType("VQToken.Engine.Scheduling." + name, throwOnError: true)!;

        var budget = Activator.CreateInstance(T("StepBudget"), 4, 2, 16, 8)!;
        var scheduler = Activator.CreateInstance(T("Scheduler"), budget, null)!;
        var runner = DispatchProxy.Create(T("IModelRunner"), typeof(FakeRunnerProxy));
        var asks = Enumerable.Range(0, 3).Select(i => Activator.CreateInstance(T("ScheduledAsk"),
            $"video{i}", new long[] { 1, 2, -200 }, new long[] { 7, 8, 9 }, 20, 5, new HashSet<long>(), true, null)!).ToList();
        foreach (var ask in asks) T("Scheduler").GetMethod("Add", [T("ScheduledAsk")])!.Invoke(scheduler, [ask]);
        var step = T("Scheduler").GetMethod("Step")!;
        for (int i = 0; i < 100 && (int)T("Scheduler").GetProperty("Count")!.GetValue(scheduler)! > 0; i++) step.Invoke(scheduler, [runner]);

        Assert.Equal(0, (int)T("Scheduler").GetProperty("Count")!.GetValue(scheduler)!);
        Assert.All(asks, a => Assert.Equal([100L, 101, 102, 103, 104], (List<long>)T("ScheduledAsk").GetField("Tokens")!.GetValue(a)!));
        Assert.True(((FakeRunnerProxy)runner).Decodes >= 4);
        lock (context.Requested)
            Assert.DoesNotContain(context.Requested, name => name.StartsWith("TorchSharp", StringComparison.OrdinalIgnoreCase));
    }
}
