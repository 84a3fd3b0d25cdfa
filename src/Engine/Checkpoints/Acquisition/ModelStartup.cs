using Microsoft.Extensions.Logging;

namespace VQToken.Engine.Checkpoints.Acquisition;

/// <summary>What the host calls at start-up to get the checkpoint on disk: resolves
/// <see cref="ModelOptions"/> (downloading when needed), keeps <see cref="ModelStatus"/> current, logs
/// progress and, for the demo model, a loud warning. The host then loads the engine from
/// <see cref="ResolvedModel.Directory"/> and calls <see cref="ModelStatus.SetReady"/> (or
/// <see cref="ModelStatus.SetFailed"/>).</summary>
public sealed class ModelStartup(ModelOptions options, ModelStatus status, ILogger<ModelStartup> logger)
{
    public ModelStatus Status { get; } = status;

    /// <summary>Overrides for tests: download retry behaviour and the HTTP handler (loopback only).</summary>
    public HubDownloadSettings? DownloadSettings { get; init; }
    public HttpMessageHandler? HttpHandler { get; init; }

    /// <summary>Writes the <c>Model:Demo</c> checkpoint into a directory (the host's generator).</summary>
    public Action<string>? DemoWriter { get; init; }

    /// <returns>The resolved checkpoint, or null when resolving failed (the status then says why; the
    /// error is logged). Cancellation propagates.</returns>
    public async Task<ResolvedModel?> ResolveAsync(CancellationToken cancellationToken)
    {
        Status.SetResolving(options.Demo ? "generating the tiny demo checkpoint"
            : options.Path.Length > 0 ? $"opening {options.Path}"
            : $"looking for {options.Repo}@{options.Revision} in the cache{(options.Offline ? " (offline)" : " or on " + options.Endpoint)}");
        var progress = new LoggedDownloadProgress(Status, logger);
        try
        {
            var model = await ModelLocator.ResolveAsync(options, progress, DownloadSettings, HttpHandler, DemoWriter, cancellationToken);
            if (model.IsDemo)
            {
                logger.LogWarning(
                    "DEMO MODEL: Model:Demo=true loaded a tiny RANDOM checkpoint from {Directory}. ANSWERS ARE MEANINGLESS. " +
                    "Set Model:Repo (Hugging Face repository id) or Model:Path (a local checkpoint) and Model:Demo=false for real answers.",
                    model.Directory);
            }
            else logger.LogInformation("Model checkpoint ready on disk: {Model} in {Directory}", model.Description, model.Directory);
            Status.SetLoading(model);
            return model;
        }
        catch (ModelAcquisitionException e)
        {
            logger.LogError(e, "The model could not be obtained ({Error}): {Reason}", e.Error, e.Message);
            Status.SetFailed($"model not available ({e.Error}): {e.Message}");
            return null;
        }
    }
}
