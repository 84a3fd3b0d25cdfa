namespace VQToken.Engine.Checkpoints.Acquisition;

/// <summary>The model's readiness for /readyz: a state and a reason a person can act on. Written by
/// start-up (<see cref="ModelStartup"/> and the code that loads the engine), read by any thread;
/// also the <see cref="IProgress{T}"/> that a download reports to.</summary>
public sealed class ModelStatus : IProgress<ModelDownloadProgress>
{
    private readonly Lock _lock = new();
    private ModelStatusSnapshot _snapshot = new(ModelState.Pending, "model start-up has not begun", false, null, null);

    public ModelStatusSnapshot Current
    {
        get { lock (_lock) return _snapshot; }
    }

    public bool IsReady => Current.IsReady;
    public ModelState State => Current.State;
    public string Reason => Current.Reason;

    public void SetResolving(string reason) => Update(s => s with { State = ModelState.Resolving, Reason = reason });

    /// <summary>The checkpoint is on disk at <paramref name="model"/>'s directory; the engine loads it next.</summary>
    public void SetLoading(ResolvedModel model) => Update(s => s with
    {
        State = ModelState.Loading, Reason = $"loading {model.Description}", IsDemo = model.IsDemo, Directory = model.Directory,
    });

    public void SetReady(string reason) => Update(s => s with { State = ModelState.Ready, Reason = reason });

    public void SetFailed(string reason) => Update(s => s with { State = ModelState.Failed, Reason = reason });

    /// <summary>Download progress: kept for /readyz and folded into the reason while resolving.</summary>
    public void Report(ModelDownloadProgress value) => Update(s => s.State != ModelState.Resolving ? s with { Download = value } : s with
    {
        Download = value,
        Reason = value.TotalBytes is { } total
            ? $"downloading the model: {value.Bytes} of {total} bytes ({100.0 * value.Bytes / Math.Max(1, total):0.0}%), now {value.File}"
            : $"downloading the model: {value.Bytes} bytes, now {value.File}",
    });

    private void Update(Func<ModelStatusSnapshot, ModelStatusSnapshot> change)
    {
        lock (_lock) _snapshot = change(_snapshot);
    }
}
