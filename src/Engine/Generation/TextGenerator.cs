using VQToken.Engine.Core;
using VQToken.Engine.Execution;
using VQToken.Engine.Models;
using VQToken.Engine.Runtime;
using VQToken.Engine.Scheduling;

namespace VQToken.Engine.Generation;

/// <summary>One answer on the calling thread through the engine's own scheduler and model runner (no engine
/// thread, no queue): parity checks, tests and tools generate with exactly the service's loop (chunked
/// prefill, decode steps, sampling, stop ids and token limit) over a model they already hold.</summary>
public static class TextGenerator
{
    public static AskResult Generate(LlavaOneVision model, AskRequest request, EngineOptions? options = null)
    {
        request.Sampling.Validate();
        options ??= new EngineOptions();
        using var metrics = new EngineMetrics(() => 0, () => 0, () => 0);
        using var runner = new ModelRunner(model, options, metrics);
        var scheduler = new Scheduler(StepBudget.From(options), metrics);
        var ask = new AskWork(request, CancellationToken.None);
        scheduler.Add(ask);
        try
        {
            while (scheduler.Count > 0) scheduler.Step(runner);
        }
        finally
        {
            scheduler.FailAll(runner, new OperationCanceledException("generation stopped"));
        }
        return ask.Done.Task.GetAwaiter().GetResult();
    }
}
