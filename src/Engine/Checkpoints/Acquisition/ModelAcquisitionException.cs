namespace VQToken.Engine.Checkpoints.Acquisition;

/// <summary>The one exception of model acquisition: <see cref="Error"/> says what went wrong, the message
/// says it for a person (what was tried and how to fix it).</summary>
public sealed class ModelAcquisitionException(ModelAcquisitionError error, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public ModelAcquisitionError Error { get; } = error;
}
