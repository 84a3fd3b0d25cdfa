namespace VQToken.Engine.Checkpoints.Acquisition;

/// <summary>A checkpoint directory ready for <see cref="CheckpointReader"/> and the tokenizer.</summary>
/// <param name="Description">For logs and /readyz, e.g. "owner/name@main (cache)".</param>
public sealed record ResolvedModel(string Directory, ModelSource Source, string Description)
{
    public bool IsDemo => Source == ModelSource.Demo;
}
