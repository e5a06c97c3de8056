using static TorchSharp.torch;

namespace MoltBot.Inference.Models;

/// <summary>
/// Pre-norm transformer block (HF LlamaDecoderLayer): h = x + attn(input_layernorm(x)); out = h + mlp(post_attention_layernorm(h)).
/// The same block serves the causal decoder and the bidirectional NLU encoder.
/// </summary>
public sealed class TransformerBlock : nn.Module<Tensor, Tensor>
{
    private readonly Attention self_attn;
    private readonly SwiGluMlp mlp;
    private readonly RmsNorm input_layernorm;
    private readonly RmsNorm post_attention_layernorm;

    public TransformerBlock(int hidden, int intermediate, int heads, int kvHeads, int headDim, bool qkvBias, double eps, string name = "layer")
        : base(name)
    {
        self_attn = new Attention(hidden, heads, kvHeads, headDim, qkvBias);
        mlp = new SwiGluMlp(hidden, intermediate);
        input_layernorm = new RmsNorm(hidden, eps);
        post_attention_layernorm = new RmsNorm(hidden, eps);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => throw new InvalidOperationException("call Forward(x, positions, rope, mask, causal)");

    /// <param name="x">[B, T, D]</param>
    public Tensor Forward(Tensor x, Tensor positions, RotaryEmbedding rope, Tensor? mask, bool causal)
    {
        using var scope = NewDisposeScope();
        var h = x.Plus(self_attn.Forward(input_layernorm.forward(x), positions, rope, mask, causal));
        return h.Plus(mlp.forward(post_attention_layernorm.forward(h))).MoveToOuterDisposeScope();
    }

    /// <summary>Appends this block's <see cref="CompiledForward.BlockSlots"/> graph tensors; false if a layer cannot run in the graph.</summary>
    internal bool AddGraphTensors(List<Tensor> list)
    {
        list.Add(input_layernorm.Weight);
        foreach (var linear in self_attn.Projections())
        {
            if (linear.GraphTensors() is not { } t) return false;
            list.AddRange(t);
        }
        list.Add(post_attention_layernorm.Weight);
        foreach (var linear in mlp.Projections())
        {
            if (linear.GraphTensors() is not { } t) return false;
            list.AddRange(t);
        }
        return true;
    }

    public Tensor ForwardCached(Tensor x, Tensor positions, RotaryEmbedding rope, KvCache cache, int layer,
        IReadOnlyList<int> slots, IReadOnlyList<int> starts, Tensor slotIndex, Tensor mask)
    {
        using var scope = NewDisposeScope();
        var h = x.Plus(self_attn.ForwardCached(input_layernorm.forward(x), positions, rope, cache, layer, slots, starts, slotIndex, mask));
        return h.Plus(mlp.forward(post_attention_layernorm.forward(h))).MoveToOuterDisposeScope();
    }
}
