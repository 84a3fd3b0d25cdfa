using static TorchSharp.torch;

namespace VQToken.Engine.Compression;

/// <summary>The VQToken codebook: per-cluster mean of the L2-normalised token rows.</summary>
public static class Codebook
{
    /// <summary>tokens [T, P, D] or [N, D], labels [T, P] or [N] (cluster ids &lt; k) → codebook [k, D];
    /// empty clusters stay zero (as the official code).</summary>
    public static Tensor FromLabels(Tensor tokens, Tensor labels, int k)
    {
        using var scope = NewDisposeScope();
        var rows = tokens.reshape(-1, tokens.shape[^1]);
        var normed = rows / rows.norm(1, keepdim: true);
        var ids = labels.reshape(-1).to_type(ScalarType.Int64).to(rows.device);
        var sums = zeros([k, rows.shape[1]], rows.dtype, rows.device).index_add(0, ids, normed, 1);
        var counts = zeros([k], rows.dtype, rows.device).index_add(0, ids, ones_like(ids, rows.dtype), 1).clamp_min(1);
        return (sums / counts.unsqueeze(1)).MoveToOuterDisposeScope();
    }
}
