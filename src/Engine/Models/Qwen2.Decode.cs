using System.Runtime.InteropServices;
using TorchSharp;
using VQToken.Engine.Checkpoints;
using VQToken.Engine.Generation;
using VQToken.Engine.Kernels;
using static TorchSharp.torch;

namespace VQToken.Engine.Models;

/// <summary>The fused decode step of one sequence over bf16-held weights: the hidden state lives in raw
/// float32 scratch memory, every linear runs the bf16 kernel on it directly and the norms, rotary, attention,
/// SiLU·up and residual adds are <see cref="DecodeOps"/> loops, so a step makes one libtorch call (its logits
/// tensor) instead of ~1,000 tensor operations each costing microseconds of dispatch.
/// Same model, same formulas: results equal the tensor path's up to float32 rounding.</summary>
public sealed partial class Qwen2ForCausalLM
{
    /// <summary>Whether a one-sequence decode step may take the fused path (tests compare it with the tensor path).</summary>
    internal bool FusedDecode { get; set; } = true;

    /// <summary>Decode steps that took the fused path (observability, tests).</summary>
    internal long FusedSteps { get; private set; }

    /// <summary>One sequence, weights held bf16 under float32 compute on the CPU (an evidence ask's probe is fed too).</summary>
    private bool TakesFusedStep(KvCache cache) => FusedDecode && (_rowsTaken ??= WeightsTakeRows());

    /// <summary>Whether the weights suit the fused step: read once, at the first decode step (after loading), since
    /// asking every linear's tensors costs native calls the fused step is there to save.</summary>
    private bool? _rowsTaken;

    private bool WeightsTakeRows() =>
        Bf16Resident && model.embed_tokens.weight.device_type == DeviceType.CPU && model.embed_tokens.weight.is_contiguous()
        && lm_head.is_contiguous() && ColumnMajorLinear.IsBf16Resident(lm_head, _dtype) && model.PrepareRows();

    /// <summary>The fused step: token → logits [1, V], appending its position to the cache.</summary>
    private unsafe Tensor DecodeRow(long token, KvCache cache)
    {
        var c = Config;
        if (token < 0 || token >= c.VocabSize) throw new ArgumentOutOfRangeException(nameof(token), token, $"outside the vocabulary (0..{c.VocabSize - 1})");
        int d = c.HiddenSize;
        var scratch = RowScratch.Current;
        float* x = scratch.Get(RowScratch.Hidden, d);
        model.embed_tokens.WidenRow(token, x, d);
        using var scope = NewDisposeScope();
        model.DecodeRow(x, cache, scratch, c);
        float* normed = scratch.Get(RowScratch.Normed, d);
        DecodeOps.RmsNorm(x, SkinnyLinear.Pointer(model.norm.Weight), model.norm.Eps, normed, d);
        var logits = empty([1, c.VocabSize], ScalarType.Float32);
        ColumnMajorLinear.ApplyRow(lm_head, normed, SkinnyLinear.Pointer(logits));
        GC.KeepAlive(model.norm.Weight);
        ForwardCalls++;
        ForwardPositions++;
        FusedSteps++;
        return logits.MoveToOuterDisposeScope();
    }
}

internal sealed partial class Qwen2Model
{
    /// <summary>Whether every linear of the decoder takes the raw one-row kernel (and notes which run as one call).</summary>
    public bool PrepareRows() => layers.Aggregate(true, (all, layer) => layer.PrepareRows() && all);

    /// <summary>The hidden state x [D] (raw) through every layer at position cache.Length; advances the cache.</summary>
    public unsafe void DecodeRow(float* x, KvCache cache, NativeScratch scratch, Qwen2Config c)
    {
        float* cos = scratch.Get(RowScratch.Rotary, 2 * c.HeadDim), sin = cos + c.HeadDim;
        _rotary.CosSinRow(cache.Length, cos, sin);
        foreach (var layer in layers) layer.DecodeRow(x, cos, sin, cache, scratch, c);
        cache.Advance(1);
    }
}

internal sealed partial class Qwen2DecoderLayer
{
    public bool PrepareRows() => self_attn.PrepareRows() & mlp.PrepareRows();

    /// <summary>x += attention(norm(x)); x += mlp(norm(x)), on raw memory.</summary>
    public unsafe void DecodeRow(float* x, float* cos, float* sin, KvCache cache, NativeScratch scratch, Qwen2Config c)
    {
        int d = c.HiddenSize;
        float* normed = scratch.Get(RowScratch.Normed, d), output = scratch.Get(RowScratch.Output, d);
        DecodeOps.RmsNorm(x, SkinnyLinear.Pointer(input_layernorm.Weight), input_layernorm.Eps, normed, d);
        self_attn.DecodeRow(normed, output, cos, sin, cache, scratch);
        DecodeOps.Add(x, output, d);
        DecodeOps.RmsNorm(x, SkinnyLinear.Pointer(post_attention_layernorm.Weight), post_attention_layernorm.Eps, normed, d);
        mlp.DecodeRow(normed, output, scratch, c.IntermediateSize);
        DecodeOps.Add(x, output, d);
        GC.KeepAlive(input_layernorm.Weight);
        GC.KeepAlive(post_attention_layernorm.Weight);
    }
}

internal sealed partial class Qwen2Attention
{
    /// <summary>Whether every projection takes the raw one-row kernel; notes whether q, k, v run as one call.</summary>
    public bool PrepareRows()
    {
        _projectionsAdjacent = ColumnMajorLinear.Adjacent([q_proj, k_proj, v_proj]);
        return q_proj.TakesRow && k_proj.TakesRow && v_proj.TakesRow && o_proj.TakesRow;
    }

    /// <summary>q, k and v held back to back (<see cref="ColumnMajorLinear.Stacked"/>): one kernel call projects all three.</summary>
    private bool _projectionsAdjacent;

    /// <summary>One position: q, k, v projected and rotated, k and v written into the cache at its length, then
    /// q attends over every cached position and itself (grouped heads as in <see cref="Attend"/>).</summary>
    public unsafe void DecodeRow(float* x, float* y, float* cos, float* sin, KvCache cache, NativeScratch scratch)
    {
        int width = _heads * _headDim, kvWidth = _kvHeads * _headDim, positions = checked((int)(cache.Length + 1));
        float* q = scratch.Get(RowScratch.Projected, width + 2 * kvWidth), k = q + width, v = k + kvWidth;
        if (_projectionsAdjacent) ColumnMajorLinear.ForwardRows([q_proj, k_proj, v_proj], x, q);
        else
        {
            q_proj.ForwardRow(x, q);
            k_proj.ForwardRow(x, k);
            v_proj.ForwardRow(x, v);
        }
        DecodeOps.Rotary(q, _heads, _headDim, cos, sin);
        DecodeOps.Rotary(k, _kvHeads, _headDim, cos, sin);
        var (keys, values) = cache.Buffers(_layer, positions);   // [1, Hkv, capacity, hd]
        long capacity = keys.shape[2];
        float* kb = SkinnyLinear.Pointer(keys), vb = SkinnyLinear.Pointer(values);
        for (int g = 0; g < _kvHeads; g++)
        {
            long at = (g * capacity + positions - 1) * _headDim;
            new ReadOnlySpan<float>(k + g * _headDim, _headDim).CopyTo(new Span<float>(kb + at, _headDim));
            new ReadOnlySpan<float>(v + g * _headDim, _headDim).CopyTo(new Span<float>(vb + at, _headDim));
        }
        float* attended = scratch.Get(RowScratch.Attended, width);
        var probabilities = cache.Probe is null ? null : empty([_heads, positions], ScalarType.Float32);   // [H, S], the probe's record
        DecodeOps.Attend(q, _heads, _kvHeads, _headDim, kb, vb, capacity, positions, scratch.Get(RowScratch.Scores, positions), attended,
            probabilities is null ? null : SkinnyLinear.Pointer(probabilities));
        if (probabilities is not null) cache.Probe!.Add(probabilities);
        GC.KeepAlive(keys);
        GC.KeepAlive(values);
        o_proj.ForwardRow(attended, y);
    }
}

internal sealed partial class Qwen2Mlp
{
    /// <summary>Whether every projection takes the raw one-row kernel; notes whether gate and up run as one call.</summary>
    public bool PrepareRows()
    {
        _gateUpAdjacent = ColumnMajorLinear.Adjacent([gate_proj, up_proj]);
        return gate_proj.TakesRow && up_proj.TakesRow && down_proj.TakesRow;
    }

    /// <summary>gate and up held back to back (<see cref="ColumnMajorLinear.Stacked"/>): one kernel call projects both.</summary>
    private bool _gateUpAdjacent;

    /// <summary>y = down(silu(gate(x)) · up(x)), on raw memory.</summary>
    public unsafe void DecodeRow(float* x, float* y, NativeScratch scratch, int width)
    {
        float* gate = scratch.Get(RowScratch.GateUp, 2 * width), up = gate + width;
        if (_gateUpAdjacent) ColumnMajorLinear.ForwardRows([gate_proj, up_proj], x, gate);
        else
        {
            gate_proj.ForwardRow(x, gate);
            up_proj.ForwardRow(x, up);
        }
        DecodeOps.SiluMul(gate, up, width);
        down_proj.ForwardRow(gate, y);
    }
}

/// <summary>The fused decode step's scratch slots (<see cref="NativeScratch"/>), one set per thread, grown to the
/// largest model and cache seen and kept (a few hundred KB).</summary>
internal static class RowScratch
{
    public const int Hidden = 0, Normed = 1, Output = 2, Projected = 3, Attended = 4, Scores = 5, GateUp = 6, Rotary = 7, Count = 8;

    [ThreadStatic] private static NativeScratch? t_current;

    public static NativeScratch Current => t_current ??= new NativeScratch(Count);
}
