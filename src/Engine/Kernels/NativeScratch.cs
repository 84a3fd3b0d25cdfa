using System.Runtime.InteropServices;

namespace VQToken.Engine.Kernels;

/// <summary>Raw float32 buffers in numbered slots, 64-byte aligned, each grown (at least doubling) to the largest
/// request and kept: the CPU kernels' and the fused decode step's scratch. One instance per thread and user.</summary>
internal sealed unsafe class NativeScratch(int slots)
{
    private readonly float*[] _memory = new float*[slots];
    private readonly int[] _sizes = new int[slots];

    public float* Get(int slot, int floats)
    {
        if (_sizes[slot] < floats)
        {
            int size = (int)Math.Min(int.MaxValue, Math.Max(floats, 2L * _sizes[slot]));   // a growing cache's scores: doubling, not one allocation per step
            NativeMemory.AlignedFree(_memory[slot]);
            _memory[slot] = null;   // nothing dangling if the allocation fails
            _sizes[slot] = 0;
            _memory[slot] = (float*)NativeMemory.AlignedAlloc((nuint)size * sizeof(float), 64);
            _sizes[slot] = size;
        }
        return _memory[slot];
    }

    ~NativeScratch()
    {
        foreach (var p in _memory) NativeMemory.AlignedFree(p);
    }
}
