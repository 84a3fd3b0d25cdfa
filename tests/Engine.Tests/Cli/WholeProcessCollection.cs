namespace VQToken.Engine.Tests.Cli;

/// <summary>Tests that load models, run concurrent asks or servers; they run apart from the other
/// test classes so the tests that read this process's resident memory measure only themselves.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class WholeProcessCollection
{
    public const string Name = "whole-process CLI runs";
}
