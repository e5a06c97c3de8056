using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace MoltBot.Inference.Models;

/// <summary>
/// Multi-head attention with grouped-query K/V heads (n_kv_heads ≤ n_heads) and rotary positions.
/// Parameters: q_proj [H·d, D], k_proj/v_proj [KvH·d, D] (optional biases), o_proj [D, H·d].
/// </summary>
public sealed class Attention : nn.Module<Tensor, Tensor>
{
    private readonly LinearLayer q_proj;
    private readonly LinearLayer k_proj;
    private readonly LinearLayer v_proj;
    private readonly LinearLayer o_proj;
    private readonly int heads;
    private readonly int kvHeads;
    private readonly int headDim;

    public Attention(int hidden, int heads, int kvHeads, int headDim, bool qkvBias, string name = "self_attn") : base(name)
    {
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        q_proj = new LinearLayer(hidden, heads * headDim, qkvBias);
        k_proj = new LinearLayer(hidden, kvHeads * headDim, qkvBias);
        v_proj = new LinearLayer(hidden, kvHeads * headDim, qkvBias);
        o_proj = new LinearLayer(heads * headDim, hidden, false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => throw new InvalidOperationException("call Forward(x, positions, rope, mask, causal)");

    /// <summary>
    /// Attention without a cache. <paramref name="x"/> [B, T, D], <paramref name="positions"/> [B, T];
    /// <paramref name="mask"/> bool [B, 1, T, T] (true = may attend) or null; <paramref name="causal"/> for the decoder.
    /// </summary>
    public Tensor Forward(Tensor x, Tensor positions, RotaryEmbedding rope, Tensor? mask, bool causal)
    {
        using var scope = NewDisposeScope();
        var (q, k, v) = Project(x, positions, rope);
        var o = F.scaled_dot_product_attention(q, RepeatKv(k), RepeatKv(v), attn_mask: mask, is_casual: causal && mask is null);
        return Output(o, x).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Incremental attention: writes this step's K/V into <paramref name="cache"/> then attends over the slot's
    /// history. <paramref name="mask"/> bool [B, 1, T, L] with L the longest history after this step.
    /// </summary>
    public Tensor ForwardCached(Tensor x, Tensor positions, RotaryEmbedding rope, KvCache cache, int layer,
        IReadOnlyList<int> slots, IReadOnlyList<int> starts, Tensor slotIndex, Tensor mask)
    {
        using var scope = NewDisposeScope();
        var (q, k, v) = Project(x, positions, rope);
        cache.Write(layer, k, v, slots, starts);
        var (kAll, vAll) = cache.Read(layer, slotIndex, mask.shape[3]);
        var o = F.scaled_dot_product_attention(q, RepeatKv(kAll), RepeatKv(vAll), attn_mask: mask);
        return Output(o, x).MoveToOuterDisposeScope();
    }

    /// <returns>q [B, H, T, d], k and v [B, KvH, T, d], with rotary applied to q and k.</returns>
    private (Tensor Q, Tensor K, Tensor V) Project(Tensor x, Tensor positions, RotaryEmbedding rope)
    {
        long b = x.shape[0], t = x.shape[1];
        var q = q_proj.forward(x).view(b, t, heads, headDim).transpose(1, 2);
        var k = k_proj.forward(x).view(b, t, kvHeads, headDim).transpose(1, 2);
        var v = v_proj.forward(x).view(b, t, kvHeads, headDim).transpose(1, 2);
        return (rope.Apply(q, positions), rope.Apply(k, positions), v);
    }

    /// <summary>q, k, v, o in the order of <see cref="CompiledForward.Source"/>'s block.</summary>
    internal IEnumerable<LinearLayer> Projections() => [q_proj, k_proj, v_proj, o_proj];

    /// <summary>[B, KvH, L, d] → [B, H, L, d]: each K/V head serves heads/kvHeads query heads.</summary>
    private Tensor RepeatKv(Tensor kv) => heads == kvHeads ? kv : kv.repeat_interleave(heads / kvHeads, dim: 1);

    private Tensor Output(Tensor o, Tensor x) =>
        o_proj.forward(o.transpose(1, 2).reshape(x.shape[0], x.shape[1], heads * headDim)); // [B, T, D]
}
