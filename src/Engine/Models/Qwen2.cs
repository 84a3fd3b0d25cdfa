using TorchSharp;
using TorchSharp.Modules;
using VQToken.Engine.Checkpoints;
using VQToken.Engine.Generation;
using VQToken.Engine.Kernels;
using static TorchSharp.torch;

namespace VQToken.Engine.Models;

/// <summary>Qwen2 decoder-only LM: token embeddings, N decoder layers (GQA attention with q/k/v bias
/// and rotary embeddings, SwiGLU MLP, RMSNorm), final norm and <c>lm_head</c> (tied to
/// <c>embed_tokens</c> when the checkpoint has no <c>lm_head.weight</c>). Module names follow the
/// checkpoint: <c>model.embed_tokens</c>, <c>model.layers.{i}.self_attn.q_proj</c>, …</summary>
public sealed partial class Qwen2ForCausalLM : nn.Module
{
    private readonly Qwen2Model model;
    private Tensor lm_head;
    private readonly ScalarType _dtype;
    private readonly ScalarType? _weightDType;

    public Qwen2Config Config { get; }
    public bool TiedLmHead { get; private set; } = true;

    /// <param name="weightDType">bfloat16: linear weights and the embedding table stay bf16 under float32
    /// compute (<see cref="ColumnMajorLinear"/>); null: every weight in <paramref name="dtype"/>.</param>
    public Qwen2ForCausalLM(Qwen2Config config, ScalarType dtype, Device device, ScalarType? weightDType = null) : base(nameof(Qwen2ForCausalLM))
    {
        Config = config;
        (_dtype, _weightDType) = (dtype, weightDType);
        model = new Qwen2Model(config, dtype, device, weightDType);
        lm_head = model.embed_tokens.weight;
        // Only the decoder is a registered child: lm_head is either the tied embedding or loaded apart.
        register_module("model", model);
    }

    /// <summary>Loads <c>model.*</c> and <c>lm_head.weight</c> (or ties it).</summary>
    public void Load(CheckpointReader checkpoint, ScalarType dtype, Device device)
    {
        WeightLoader.Load(model, checkpoint, "model.", dtype, device);
        if (checkpoint.Contains("lm_head.weight"))
        {
            var actual = checkpoint.Info("lm_head.weight").Shape;
            if (!actual.SequenceEqual([Config.VocabSize, Config.HiddenSize]))
                throw new InvalidDataException($"tensor 'lm_head.weight' has shape {WeightLoader.Shape(actual)}, expected {WeightLoader.Shape([Config.VocabSize, Config.HiddenSize])}");
            lm_head = ColumnMajorLinear.AllocateWeight(Config.VocabSize, Config.HiddenSize, dtype, _weightDType, device);   // laid out as the tied table
            WeightLoader.LoadInto(checkpoint, "lm_head.weight", lm_head);
            TiedLmHead = false;
        }
        _rowsTaken = null;   // the fused decode step looks at the loaded weights again
    }

    /// <summary>The compute dtype (activations, caches); the weights may be held narrower.</summary>
    public ScalarType DType => _dtype;

    /// <summary>Bytes of a separately loaded lm_head (0 when tied to the embedding table).</summary>
    public long LmHeadBytes => TiedLmHead ? 0 : lm_head.NumberOfElements * lm_head.ElementSize;

    /// <summary>Whether the linears and the embedding table are held in bf16 under float32 compute.</summary>
    public bool Bf16Resident => ColumnMajorLinear.IsBf16Resident(model.embed_tokens.weight, _dtype);

    /// <summary>Forward calls and positions computed since load (observability, tests).</summary>
    public long ForwardCalls { get; private set; }
    public long ForwardPositions { get; private set; }

    /// <summary>ids [B, L] → embeddings [B, L, D].</summary>
    public Tensor Embed(Tensor ids)
    {
        var table = model.embed_tokens.weight;
        if (table.dtype == _dtype) return table[ids];
        using var rows = table[ids];   // a bf16-resident table: the looked-up rows widened (exact)
        return rows.to_type(_dtype);
    }

    public KvCache NewCache(long capacity = 256) =>
        new(Config.NumHiddenLayers, Config.NumKeyValueHeads, Config.HeadDim, DType, model.embed_tokens.weight.device, capacity);

    /// <summary>Runs embeddings [1, L, D] at positions cache.Length.. through the decoder, appending to
    /// the cache; returns logits [1, L, V], or [1, 1, V] for the last position only.</summary>
    public Tensor Forward(Tensor embeds, KvCache cache, bool lastOnly = false)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var hidden = ChunkedForward(embeds, cache, lastOnly);
        ForwardCalls++;
        ForwardPositions += embeds.shape[1];
        if (lastOnly) hidden = hidden.narrow(1, hidden.shape[1] - 1, 1);
        var logits = ColumnMajorLinear.Apply(model.norm.forward(hidden), lm_head);
        return logits.MoveToOuterDisposeScope();
    }

    /// <summary>Positions run through the decoder together at most: a long prompt (the full-token
    /// baseline at 32 frames is 6273 visual tokens) is prefilled in chunks, each attending to the cache
    /// and itself, so activation memory stays that of one chunk (the same result, in chunk-sized matmuls).</summary>
    public int PrefillChunk { get; set; } = 1024;

    /// <summary>Prompts this long or longer leave enough freed activation memory to be worth trimming.</summary>
    public const int LongPrompt = 512;

    /// <summary>hidden states [1, L, D] (only the last chunk's when <paramref name="lastOnly"/>).</summary>
    private Tensor ChunkedForward(Tensor embeds, KvCache cache, bool lastOnly)
    {
        long n = embeds.shape[1];
        if (n <= PrefillChunk) return model.forward(embeds, cache);
        var parts = new List<Tensor>();
        for (long start = 0; start < n; start += PrefillChunk)
        {
            long length = Math.Min(PrefillChunk, n - start);
            var hidden = model.forward(embeds.narrow(1, start, length), cache);
            if (lastOnly && start + length < n) hidden.Dispose();
            else parts.Add(hidden);
        }
        return parts.Count == 1 ? parts[0] : cat(parts, 1);
    }

    /// <summary>One decode step for several sequences at once (ragged batching): token ids [B], each
    /// sequence at its own position with its own cache. The linear layers run on all B rows together;
    /// attention runs per sequence over its cache. Returns logits [B, V]. One sequence over bf16-held weights
    /// takes the fused step (<see cref="DecodeRow"/>).</summary>
    public Tensor DecodeBatch(IReadOnlyList<long> tokens, IReadOnlyList<KvCache> caches)
    {
        if (tokens.Count != caches.Count || tokens.Count == 0) throw new ArgumentException("one cache per token is required");
        if (tokens.Count == 1 && TakesFusedStep(caches[0])) return DecodeRow(tokens[0], caches[0]);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var embeds = Embed(tensor(tokens.ToArray(), device: model.embed_tokens.weight.device)).unsqueeze(1);   // [B, 1, D]
        var hidden = model.forward(embeds, caches);
        ForwardCalls++;
        ForwardPositions += tokens.Count;
        return ColumnMajorLinear.Apply(model.norm.forward(hidden), lm_head).squeeze(1).MoveToOuterDisposeScope();
    }

    /// <summary>Prefills several sequences at once, each extending its own cache with its own token ids
    /// (ragged: rows are padded to the longest, padding never reaches a cache). Returns the logits of
    /// each row's last token, [B, V].</summary>
    public Tensor PrefillBatch(IReadOnlyList<long[]> tokenIds, IReadOnlyList<KvCache> caches)
    {
        if (tokenIds.Count != caches.Count || tokenIds.Count == 0 || tokenIds.Any(t => t.Length == 0))
            throw new ArgumentException("one cache and at least one token per row are required");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        long longest = tokenIds.Max(t => t.Length);
        var padded = tokenIds.SelectMany(t => t.Concat(Enumerable.Repeat(0L, (int)(longest - t.Length)))).ToArray();
        var device = model.embed_tokens.weight.device;
        var embeds = Embed(tensor(padded, [tokenIds.Count, longest], device: device));                       // [B, L, D]
        var lengths = tokenIds.Select(t => (long)t.Length).ToList();
        var hidden = model.forward(embeds, caches, lengths);
        ForwardCalls++;
        ForwardPositions += lengths.Sum();
        var last = stack(lengths.Select((len, i) => hidden[i, len - 1]), 0);                                   // [B, D]
        return ColumnMajorLinear.Apply(model.norm.forward(last), lm_head).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !TiedLmHead) lm_head.Dispose();
        base.Dispose(disposing);
    }
}

internal sealed partial class Qwen2Model : nn.Module
{
    public readonly TokenEmbedding embed_tokens;
    private readonly ModuleList<Qwen2DecoderLayer> layers = new();
    public readonly RmsNorm norm;
    private readonly RotaryEmbedding _rotary;

    public Qwen2Model(Qwen2Config c, ScalarType dtype, Device device, ScalarType? weightDType = null) : base(nameof(Qwen2Model))
    {
        embed_tokens = new TokenEmbedding(c.VocabSize, c.HiddenSize, dtype, device, weightDType);
        for (int i = 0; i < c.NumHiddenLayers; i++) layers.Add(new Qwen2DecoderLayer(c, i, dtype, device, weightDType));
        norm = new RmsNorm(c.HiddenSize, c.RmsNormEps, dtype, device);
        _rotary = new RotaryEmbedding(c.HeadDim, c.RopeTheta);
        RegisterComponents();
    }

    /// <summary>embeds [1, L, D] → hidden states [1, L, D] before the final norm.</summary>
    public Tensor forward(Tensor embeds, KvCache cache) => forward(embeds, [cache]);

    /// <summary>embeds [B, L, D] with one cache per row → hidden states [B, L, D] before the final
    /// norm. Rows may be ragged: row b holds <paramref name="lengths"/>[b] real positions (the rest is
    /// padding, never written to its cache); all L when no lengths are given.</summary>
    public Tensor forward(Tensor embeds, IReadOnlyList<KvCache> caches, IReadOnlyList<long>? lengths = null)
    {
        long b = embeds.shape[0], n = embeds.shape[1];
        if (b != caches.Count) throw new ArgumentException($"{b} rows but {caches.Count} caches");
        using var scope = NewDisposeScope();
        Tensor cos, sin;
        if (b == 1) (cos, sin) = _rotary.CosSin(caches[0].Length, n, embeds.dtype, embeds.device);    // [L, hd]
        else
        {
            var parts = caches.Select(c => _rotary.CosSin(c.Length, n, embeds.dtype, embeds.device)).ToList();
            cos = stack(parts.Select(p => p.Cos), 0).unsqueeze(1);                                       // [B, 1, L, hd]
            sin = stack(parts.Select(p => p.Sin), 0).unsqueeze(1);
        }
        var x = embeds;
        foreach (var layer in layers)
        {
            var next = layer.forward(x, cos, sin, caches, lengths);
            if (!ReferenceEquals(x, embeds)) x.Dispose();   // free each hidden state once the next layer has it
            x = next;
        }
        for (int i = 0; i < caches.Count; i++) caches[i].Advance(lengths?[i] ?? n);
        return x.MoveToOuterDisposeScope();
    }
}

internal sealed partial class Qwen2DecoderLayer : nn.Module
{
    private readonly RmsNorm input_layernorm, post_attention_layernorm;
    private readonly Qwen2Attention self_attn;
    private readonly Qwen2Mlp mlp;

    public Qwen2DecoderLayer(Qwen2Config c, int index, ScalarType dtype, Device device, ScalarType? weightDType = null) : base(nameof(Qwen2DecoderLayer))
    {
        input_layernorm = new RmsNorm(c.HiddenSize, c.RmsNormEps, dtype, device);
        post_attention_layernorm = new RmsNorm(c.HiddenSize, c.RmsNormEps, dtype, device);
        self_attn = new Qwen2Attention(c, index, dtype, device, weightDType);
        mlp = new Qwen2Mlp(c, dtype, device, weightDType);
        RegisterComponents();
    }

    public Tensor forward(Tensor x, Tensor cos, Tensor sin, KvCache cache) => forward(x, cos, sin, [cache]);

    public Tensor forward(Tensor x, Tensor cos, Tensor sin, IReadOnlyList<KvCache> caches, IReadOnlyList<long>? lengths = null)
    {
        using var scope = NewDisposeScope();
        x = x + self_attn.forward(input_layernorm.forward(x), cos, sin, caches, lengths);
        x = x + mlp.forward(post_attention_layernorm.forward(x));
        return x.MoveToOuterDisposeScope();
    }
}

internal sealed partial class Qwen2Attention : nn.Module
{
    private readonly ColumnMajorLinear q_proj, k_proj, v_proj, o_proj;
    private readonly int _heads, _kvHeads, _headDim, _layer;

    public Qwen2Attention(Qwen2Config c, int layer, ScalarType dtype, Device device, ScalarType? weightDType = null) : base(nameof(Qwen2Attention))
    {
        (_heads, _kvHeads, _headDim, _layer) = (c.NumAttentionHeads, c.NumKeyValueHeads, c.HeadDim, layer);
        var qkv = ColumnMajorLinear.Stacked(c.HiddenSize, [_heads * _headDim, _kvHeads * _headDim, _kvHeads * _headDim], true, dtype, device, weightDType);
        (q_proj, k_proj, v_proj) = (qkv[0], qkv[1], qkv[2]);
        o_proj = new ColumnMajorLinear(_heads * _headDim, c.HiddenSize, false, dtype, device, weightDType);
        RegisterComponents();
    }

    /// <summary>x [1, L, D] at positions cache.Length..; attends causally to the cache and itself.</summary>
    public Tensor forward(Tensor x, Tensor cos, Tensor sin, KvCache cache) => forward(x, cos, sin, [cache]);

    /// <summary>x [B, L, D], row b at positions caches[b].Length.. with lengths[b] real positions (all L
    /// when null): the projections run on all rows at once, attention per row over that row's cache
    /// and its real positions; padded positions come out as zeros.</summary>
    public Tensor forward(Tensor x, Tensor cos, Tensor sin, IReadOnlyList<KvCache> caches, IReadOnlyList<long>? lengths = null)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], n = x.shape[1];
        var qkv = ColumnMajorLinear.ForwardStacked([q_proj, k_proj, v_proj], x);                                   // [B, L, H·hd], [B, L, Hkv·hd] ×2
        var q = RotaryEmbedding.Apply(qkv[0].view(b, n, _heads, _headDim).transpose(1, 2), cos, sin);    // [B, H, L, hd]
        var k = RotaryEmbedding.Apply(qkv[1].view(b, n, _kvHeads, _headDim).transpose(1, 2), cos, sin); // [B, Hkv, L, hd]
        var v = qkv[2].view(b, n, _kvHeads, _headDim).transpose(1, 2);
        if (n == 1 && b > 1 && BatchedAttentionPays(caches))
        {
            var heads = AttendDecodeBatch(q, k, v, caches).transpose(1, 2).reshape(b, 1, _heads * _headDim);
            return o_proj.forward(heads).MoveToOuterDisposeScope();
        }
        var rows = new Tensor[b];
        for (int i = 0; i < b; i++)
        {
            long len = lengths?[i] ?? n;
            rows[i] = Attend(q.narrow(0, i, 1).narrow(2, 0, len), k.narrow(0, i, 1).narrow(2, 0, len), v.narrow(0, i, 1).narrow(2, 0, len), caches[i]);
            if (len < n) rows[i] = cat([rows[i], zeros([1, _heads, n - len, _headDim], rows[i].dtype, rows[i].device)], 2);
        }
        var attended = b == 1 ? rows[0] : cat(rows, 0);                                                            // [B, H, L, hd]
        return o_proj.forward(attended.transpose(1, 2).reshape(b, n, _heads * _headDim)).MoveToOuterDisposeScope();
    }

    /// <summary>Whether a decode step attends in one call over all rows (padded to the longest) rather
    /// than per row: when padding at most doubles the positions read. A batch mixing a full-token prompt
    /// (thousands of positions) with short ones attends per row instead of copying every short cache out
    /// to the long one's length in every layer.</summary>
    private static bool BatchedAttentionPays(IReadOnlyList<KvCache> caches)
    {
        long longest = caches.Max(c => c.Length) + 1, seen = caches.Sum(c => c.Length + 1);
        return caches.Count * longest <= 2 * seen;
    }

    /// <summary>A decode step of B sequences (q [B, H, 1, hd]; k, v [B, Hkv, 1, hd]): each row's key and
    /// value go into its own cache, then all rows attend in ONE call over copies of their caches padded
    /// with zeros to the longest, a mask hiding each row's padding (the caches themselves never grow).
    /// At this size a call per row costs more in dispatch (and thread wake-ups) than in arithmetic:
    /// 8 rows × 24 layers took ~30 ms of a ~140 ms step.</summary>
    private Tensor AttendDecodeBatch(Tensor q, Tensor k, Tensor v, IReadOnlyList<KvCache> caches)
    {
        long b = q.shape[0], longest = caches.Max(c => c.Length) + 1;
        var keys = new Tensor[b];
        var values = new Tensor[b];
        for (int i = 0; i < b; i++)
        {
            long padding = longest - (caches[i].Length + 1);
            var (key, value) = caches[i].Append(_layer, k.narrow(0, i, 1), v.narrow(0, i, 1));                 // [1, Hkv, len + 1, hd]
            if (caches[i].Probe is { } probe) Record(probe, q.narrow(0, i, 1), key);
            (keys[i], values[i]) = padding == 0 ? (key, value)
                : (nn.functional.pad(key, [0, 0, 0, padding]), nn.functional.pad(value, [0, 0, 0, padding]));
        }
        var seen = tensor(caches.Select(c => c.Length + 1).ToArray(), device: q.device);                             // positions row b sees
        var visible = (arange(longest, device: q.device).unsqueeze(0) < seen.unsqueeze(1)).view(b, 1, 1, longest);   // [B, 1, 1, S]
        int repeat = _heads / _kvHeads;
        return nn.functional.scaled_dot_product_attention(q.reshape(b, _kvHeads, repeat, _headDim), cat(keys, 0), cat(values, 0), visible)
            .reshape(b, _heads, 1, _headDim);
    }

    /// <summary>Evidence: the attention probabilities of q's last position (q [1, H, n, hd]) over every cached
    /// position (keys [1, Hkv, S, hd]), written out because SDPA does not return them: softmax(q·kᵀ/√hd) in
    /// float32, query heads grouped per kv head as above. The attention output itself still comes from SDPA.</summary>
    private void Record(AttentionProbe probe, Tensor q, Tensor keys)
    {
        using var scope = NewDisposeScope();
        var last = q.narrow(2, q.shape[2] - 1, 1).reshape(1, _kvHeads, _heads / _kvHeads, _headDim);   // [1, Hkv, r, hd]
        if (last.dtype != ScalarType.Float32) (last, keys) = (last.to_type(ScalarType.Float32), keys.to_type(ScalarType.Float32));
        var scores = matmul(last, keys.transpose(2, 3)).mul_(1 / Math.Sqrt(_headDim));                     // [1, Hkv, r, S]
        probe.Add(nn.functional.softmax(scores, -1).view(_heads, -1));
    }

    /// <summary>One sequence: q [1, H, L, hd]; k, v [1, Hkv, L, hd] appended to its cache first.</summary>
    private Tensor Attend(Tensor q, Tensor k, Tensor v, KvCache cache)
    {
        long n = q.shape[2], past = cache.Length;
        var (keys, values) = cache.Append(_layer, k, v);                                                            // [1, Hkv, S, hd]
        if (cache.Probe is { } probe) Record(probe, q, keys);
        int repeat = _heads / _kvHeads;
        // One position: the query heads sharing a key/value head become rows of that head's query
        // ([1, Hkv, repeat, hd]; heads are grouped consecutively, as repeat_interleave pairs them), so
        // the cache is read in place instead of copied `repeat` times every step.
        if (n == 1)
            return nn.functional.scaled_dot_product_attention(q.reshape(1, _kvHeads, repeat, _headDim), keys, values).reshape(1, _heads, 1, _headDim);
        if (AttentionKernel.TakesCausal(q, keys, values))
            return AttentionKernel.Causal(q, keys, values).view(1, n, _heads, _headDim).transpose(1, 2);          // [1, H, L, hd] view
        if (repeat > 1)
        {
            keys = keys.repeat_interleave(repeat, dim: 1);
            values = values.repeat_interleave(repeat, dim: 1);
        }
        if (past == 0) return nn.functional.scaled_dot_product_attention(q, keys, values, is_casual: true);
        // New positions past..past+n-1 see every cached position and the new ones up to themselves.
        var allowed = arange(past + n, device: q.device).unsqueeze(0) <= arange(past, past + n, device: q.device).unsqueeze(1);
        return nn.functional.scaled_dot_product_attention(q, keys, values, allowed);
    }
}

internal sealed partial class Qwen2Mlp : nn.Module<Tensor, Tensor>
{
    private readonly ColumnMajorLinear gate_proj, up_proj, down_proj;

    public Qwen2Mlp(Qwen2Config c, ScalarType dtype, Device device, ScalarType? weightDType = null) : base(nameof(Qwen2Mlp))
    {
        var gateUp = ColumnMajorLinear.Stacked(c.HiddenSize, [c.IntermediateSize, c.IntermediateSize], false, dtype, device, weightDType);
        (gate_proj, up_proj) = (gateUp[0], gateUp[1]);
        down_proj = new ColumnMajorLinear(c.IntermediateSize, c.HiddenSize, false, dtype, device, weightDType);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var gateUp = ColumnMajorLinear.ForwardStacked([gate_proj, up_proj], x);                                       // [.., I] ×2
        return down_proj.forward(nn.functional.silu(gateUp[0]).mul_(gateUp[1])).MoveToOuterDisposeScope();
    }
}
