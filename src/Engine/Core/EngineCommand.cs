using VQToken.Engine.Scheduling;

namespace VQToken.Engine.Core;

/// <summary>What the engine thread takes from its inbox (vLLM's add / utility requests): each command
/// applies itself to the core, so the inbox is typed and the thread never switches on what it got.</summary>
internal abstract record EngineCommand
{
    public abstract void Apply(EngineCore core);

    /// <summary>The command's request failed before the thread took it (the engine stopped).</summary>
    public virtual void Fail(Exception error) { }

    /// <summary>Whether the command counts as a queued request (the queue depth, backpressure).</summary>
    public virtual bool IsRequest => false;
}

/// <summary>A new ask or video for the scheduler.</summary>
internal sealed record AddAsk(AskWork Work) : EngineCommand
{
    public override void Apply(EngineCore core) => core.Take(Work);
    public override void Fail(Exception error) => Work.Fail(error);
    public override bool IsRequest => true;
}

/// <summary>A new scoring request: the scheduler holds it as an ask that ends at its first answer position.</summary>
internal sealed record AddScore(ScoreWork Work) : EngineCommand
{
    public override void Apply(EngineCore core) => core.Take(Work);
    public override void Fail(Exception error) => Work.Fail(error);
    public override bool IsRequest => true;
}

internal sealed record AddEncode(EncodeWork Work) : EngineCommand
{
    public override void Apply(EngineCore core) => core.Take(Work);
    public override void Fail(Exception error) => Work.Fail(error);
    public override bool IsRequest => true;
}

/// <summary>Drops a video's cached prompt prefixes.</summary>
internal sealed record ForgetVideo(string VideoKey) : EngineCommand
{
    public override void Apply(EngineCore core) => core.Forget(VideoKey);
}
