using System.ComponentModel.DataAnnotations;

namespace VQToken.Engine.Runtime;

/// <summary>Settings of the inference engine (configuration section <c>Engine</c>).</summary>
public sealed class EngineOptions
{
    public const string Section = "Engine";

    /// <summary><c>auto</c> (CUDA when available, else CPU), <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.</summary>
    [RegularExpression("^(auto|cpu|cuda(:[0-9]+)?)$", ErrorMessage = "Engine:Device must be auto, cpu, cuda or cuda:N")]
    public string Device { get; set; } = "auto";

    /// <summary><c>auto</c> (float32 on CPU, bfloat16 on CUDA), <c>float32</c>, <c>bfloat16</c>, <c>float16</c>.</summary>
    [RegularExpression("^(auto|float32|bfloat16|float16)$", ErrorMessage = "Engine:DType must be auto, float32, bfloat16 or float16")]
    public string DType { get; set; } = "auto";

    /// <summary><c>auto</c>: float32 compute on the CPU keeps a bfloat16 checkpoint's linear weights and embedding
    /// table in bfloat16 (half the memory; decode streams half the bytes); <c>float32</c> widens them all at load.</summary>
    [RegularExpression("^(auto|float32)$", ErrorMessage = "Engine:WeightResidency must be auto or float32")]
    public string WeightResidency { get; set; } = "auto";

    /// <summary>Intra-op threads of libtorch on CPU; 0 = libtorch's default less one core for request handling.</summary>
    [Range(0, 1024)]
    public int Threads { get; set; }

    /// <summary>The intra-op thread count to use: <paramref name="configured"/> when set, else libtorch's default
    /// capped at one less than the processors this process may use (a container's CPU limit included). OpenMP
    /// threads that share every core with the request threads wait on each other at every parallel region.</summary>
    public static int IntraOpThreads(int configured, int libtorchDefault, int processors) =>
        configured > 0 ? configured : Math.Max(1, Math.Min(libtorchDefault, processors - 1));

    /// <summary>Requests waiting for the engine at most; beyond it requests fail fast as overloaded.</summary>
    [Range(1, 100_000)]
    public int MaxQueuedRequests { get; set; } = 256;

    /// <summary>Sequences decoded together in one step (continuous batching).</summary>
    [Range(1, 1024)]
    public int MaxBatchSequences { get; set; } = 16;

    /// <summary>Asks that start their prefill per step at most, so running ones keep streaming.</summary>
    [Range(1, 1024)]
    public int MaxPrefillsPerStep { get; set; } = 8;

    /// <summary>Frames encoded by the vision tower in one batch (across videos): bounds activation
    /// memory and how long asks wait behind a compression.</summary>
    [Range(1, 4096)]
    public int MaxBatchFrames { get; set; } = 8;

    /// <summary>Prompt positions prefilled per step (across asks) and per chunk of one prompt: a long
    /// question or a full-token prefix is prefilled over several steps, between other asks' decode steps.</summary>
    [Range(16, 65_536)]
    public int PrefillChunkTokens { get; set; } = 512;

    /// <summary>Readiness fails when work waits and no engine step completed for this long (a stuck
    /// engine); 0 turns the check off.</summary>
    [Range(0, 86_400)]
    public double StallSeconds { get; set; } = 60;

    /// <summary>On CPU in float32, decode steps of 2–16 sequences run their float32 linear layers through the
    /// engine's AVX-512 few-row GEMM when the CPU has AVX-512; false keeps libtorch's GEMM for them
    /// (bf16-resident weights always decode through the bf16 kernel).</summary>
    public bool DecodeKernel { get; set; } = true;

    /// <summary>Device memory for cached prompt prefixes (system prompt + visual tokens), LRU.
    /// 0 disables the prefix cache.</summary>
    [Range(0, long.MaxValue)]
    public long PrefixCacheBytes { get; set; } = 512L << 20;
}
