namespace VQToken.Engine.Runtime;

/// <summary>What every process hosting the engine sets before anything else runs (the service's and the CLI's Main):
/// libtorch's OpenMP reads its wait policy when it loads, and glibc's arenas are made as threads first allocate.</summary>
public static class ProcessStart
{
    public static void Prepare()
    {
        OpenMpWaitPolicy.Apply();   // before TorchSharp loads libgomp: idle OpenMP workers sleep, not spin
        HeapTrim.LimitArenas();     // before threads allocate: few glibc arenas, so freed tensor memory is not kept per thread
        HeapTrim.KeepActivationPages();   // activations reused from the arenas, not returned and faulted in per layer
    }
}
