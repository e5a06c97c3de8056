using TorchSharp;
using static TorchSharp.torch;

namespace MoltBot.Inference.Models;

/// <summary>
/// Whole-model forward passes as TorchScript functions: one <c>invoke</c> per decode step / NLU batch instead of
/// ~60 TorchSharp calls per layer. At the bundled models' sizes a step is per-op overhead (marshalling, handles,
/// dispose scopes), not arithmetic, so this is where the time goes. Weights are passed as one flat tensor list:
/// every linear layer takes <see cref="LinearSlots"/> entries, FP32 <c>[W, b, W, W, W]</c> or fbgemm int8
/// <c>[Q, scale, packed, col_offsets, b/scale]</c> (the graph tells them apart by Q's dtype), so one graph runs FP32,
/// INT8 and mixed models. The eager modules stay the reference (tests compare both) and the path for training,
/// BF16 and anything the graph does not cover.
/// </summary>
public static class CompiledForward
{
    /// <summary>Tensors per linear layer in the flat weight list.</summary>
    public const int LinearSlots = 5;

    /// <summary>Per transformer block: input norm, q, k, v, o, post-attention norm, gate, up, down.</summary>
    public const int BlockSlots = 2 + 7 * LinearSlots;

    /// <summary>
    /// The TorchScript source. A compile error terminates the process (C++ terminate), so this exact text is compiled
    /// by a unit test (CompiledForwardTests) before it can reach production.
    /// Activations stay 2-D [B·T, D] between blocks (no reshapes around the int8 GEMM); 37 = <see cref="BlockSlots"/>.
    /// Rotary: rotate_half(x)·sin = roll(x, d/2)·sin_signed with sin_signed = [-sin | +sin] (one op instead of four).
    /// </summary>
    public const string Source = """
        def rms(x: Tensor, w: Tensor, eps: float) -> Tensor:
            return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w

        def lin(x: Tensor, p: List[Tensor], i: int) -> Tensor:
            w = p[i]
            if w.is_floating_point():
                return torch.linear(x, w, p[i + 1])
            y = torch.fbgemm_linear_int8_weight_fp32_activation(x, w, p[i + 2], p[i + 3], 1.0, 0, p[i + 4])
            return y * p[i + 1]

        def block(x: Tensor, b: int, t: int, p: List[Tensor], base: int, c: Tensor, s: Tensor, eps: float,
                  heads: int, kv_heads: int, head_dim: int, kc: Tensor, vc: Tensor, rows: Tensor, slots: Tensor,
                  length: int, mask: Tensor, use_cache: bool) -> Tensor:
            half = head_dim // 2
            h = rms(x, p[base], eps)
            q = lin(h, p, base + 1).view([b, t, heads, head_dim])
            k = lin(h, p, base + 6).view([b, t, kv_heads, head_dim])
            v = lin(h, p, base + 11).view([b, t, kv_heads, head_dim]).transpose(1, 2)
            q = (q * c + q.roll(half, -1) * s).transpose(1, 2)
            k = (k * c + k.roll(half, -1) * s).transpose(1, 2)
            if use_cache:
                kc.view([-1, head_dim]).index_copy_(0, rows, k.reshape([-1, head_dim]))
                vc.view([-1, head_dim]).index_copy_(0, rows, v.reshape([-1, head_dim]))
                k = kc.narrow(2, 0, length).index_select(0, slots)
                v = vc.narrow(2, 0, length).index_select(0, slots)
            if heads != kv_heads:
                k = k.repeat_interleave(heads // kv_heads, 1)
                v = v.repeat_interleave(heads // kv_heads, 1)
            o = torch.scaled_dot_product_attention(q, k, v, mask)
            x = x + lin(o.transpose(1, 2).reshape([b * t, heads * head_dim]), p, base + 16)
            h = rms(x, p[base + 21], eps)
            return x + lin(torch.silu(lin(h, p, base + 22)) * lin(h, p, base + 27), p, base + 32)

        def decode(tokens: Tensor, starts: Tensor, slots: Tensor, length: int, last_only: bool, embed: Tensor,
                   cos: Tensor, sin: Tensor, p: List[Tensor], keys: List[Tensor], values: List[Tensor], norm: Tensor,
                   head: List[Tensor], heads: int, kv_heads: int, head_dim: int, eps: float) -> Tensor:
            b = tokens.size(0)
            t = tokens.size(1)
            positions = starts.unsqueeze(1) + torch.arange(t, device=tokens.device).unsqueeze(0)
            mask = torch.arange(length, device=tokens.device).view([1, 1, 1, length]) <= positions.view([b, 1, t, 1])
            flat = positions.flatten()
            c = cos.index_select(0, flat).view([b, t, 1, head_dim])
            s = sin.index_select(0, flat).view([b, t, 1, head_dim])
            lmax = keys[0].size(2)
            kvh = torch.arange(kv_heads, device=tokens.device).view([1, kv_heads, 1])
            rows = ((slots.view([b, 1, 1]) * kv_heads + kvh) * lmax + positions.view([b, 1, t])).flatten()
            x = torch.embedding(embed, tokens.flatten())
            for l in range(len(keys)):
                x = block(x, b, t, p, l * 37, c, s, eps, heads, kv_heads, head_dim, keys[l], values[l],
                          rows, slots, length, mask, True)
            if last_only and t > 1:
                x = x.view([b, t, -1]).select(1, t - 1)
                t = 1
            return lin(rms(x, norm, eps), head, 0).view([b, t, -1])

        def nlu_hidden(tokens: Tensor, valid: Tensor, embed: Tensor, cos: Tensor, sin: Tensor, p: List[Tensor], layers: int,
                       norm: Tensor, heads: int, head_dim: int, eps: float) -> Tuple[Tensor, Tensor]:
            b = tokens.size(0)
            t = tokens.size(1)
            c = cos.narrow(0, 0, t).view([1, t, 1, head_dim])
            s = sin.narrow(0, 0, t).view([1, t, 1, head_dim])
            mask = valid.view([b, 1, 1, t])
            x = torch.embedding(embed, tokens.flatten())
            for l in range(layers):
                x = block(x, b, t, p, l * 37, c, s, eps, heads, heads, head_dim, x, x, x, x, t, mask, False)
            x = rms(x, norm, eps)
            w = valid.type_as(x).unsqueeze(-1)
            pooled = (x.view([b, t, -1]) * w).sum(1) / w.sum(1).clamp_min(1.0)
            return x, pooled

        def unit(e: Tensor) -> Tensor:
            return e * torch.rsqrt((e * e).sum(-1, keepdim=True).clamp_min(1e-24))

        def nlu(tokens: Tensor, valid: Tensor, embed: Tensor, cos: Tensor, sin: Tensor, p: List[Tensor], layers: int,
                norm: Tensor, heads_p: List[Tensor], heads: int, head_dim: int, eps: float) -> Tuple[Tensor, Tensor, Tensor]:
            x, pooled = nlu_hidden(tokens, valid, embed, cos, sin, p, layers, norm, heads, head_dim, eps)
            intent = lin(pooled, heads_p, 0).softmax(-1)
            tags = lin(x, heads_p, 5).argmax(-1).view([tokens.size(0), tokens.size(1)])
            return intent, tags, unit(lin(pooled, heads_p, 10))

        def nlu_probs(tokens: Tensor, valid: Tensor, embed: Tensor, cos: Tensor, sin: Tensor, p: List[Tensor], layers: int,
                      norm: Tensor, heads_p: List[Tensor], heads: int, head_dim: int, eps: float) -> Tuple[Tensor, Tensor, Tensor]:
            x, pooled = nlu_hidden(tokens, valid, embed, cos, sin, p, layers, norm, heads, head_dim, eps)
            intent = lin(pooled, heads_p, 0).softmax(-1)
            tags = lin(x, heads_p, 5).softmax(-1).view([tokens.size(0), tokens.size(1), -1])
            return intent, tags, unit(lin(pooled, heads_p, 10))

        """ + "\n";

    private static readonly Lazy<jit.CompilationUnit> LazyUnit = new(() => torch.jit.compile(Source));

    /// <summary>The compiled functions, shared by every model of the process (compiled once, on first use).</summary>
    internal static jit.CompilationUnit Unit => LazyUnit.Value;

    /// <summary>The flat list for <paramref name="blocks"/>, or null when a layer cannot run in the graph (BF16).</summary>
    internal static Tensor[]? BlockTensors(IEnumerable<TransformerBlock> blocks)
    {
        var list = new List<Tensor>();
        foreach (var block in blocks)
        {
            if (!block.AddGraphTensors(list)) return null;
        }
        return list.ToArray();
    }

    /// <summary>[d] sin table with the first half negated: rotate_half(x)·sin = roll(x, d/2)·signed.</summary>
    internal static torch.Tensor SignedSin(torch.Tensor sin)
    {
        using var scope = torch.NewDisposeScope();
        long half = sin.shape[^1] / 2;
        var sign = torch.cat([-torch.ones(half), torch.ones(half)]).to(sin.device);
        return (sin * sign).contiguous().MoveToOuterDisposeScope();
    }
}
