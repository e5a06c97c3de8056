using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace MoltBot.Inference.Models;

/// <summary>
/// Llama-family decoder-only language model (Llama 2/3, Qwen2, Mistral, SmolLM, TinyLlama):
/// embed_tokens → N × TransformerBlock (causal GQA attention + SwiGLU) → RMSNorm → lm_head (or tied embedding).
/// Parameter names equal the HF tensor names: model.embed_tokens.weight, model.layers.N.self_attn.q_proj.weight,
/// model.layers.N.mlp.gate_proj.weight, model.layers.N.input_layernorm.weight, model.norm.weight, lm_head.weight.
/// </summary>
public sealed class DecoderLM : nn.Module<Tensor, Tensor>
{
    private readonly DecoderBody model;
    private readonly LinearLayer? lm_head;
    private readonly RotaryEmbedding rope;

    public DecoderLM(DecoderConfig config) : base("DecoderLM")
    {
        config.Validate("DecoderConfig");
        Config = config;
        model = new DecoderBody(config);
        if (!config.TieWordEmbeddings) lm_head = new LinearLayer(config.HiddenSize, config.VocabSize, false);
        rope = new RotaryEmbedding(config.HeadDim, config.MaxPositionEmbeddings, config.RopeTheta);
        RegisterComponents();
        graph = new Lazy<GraphWeights?>(BuildGraph);
    }

    public DecoderConfig Config { get; }

    /// <summary>Training / full-sequence forward. <paramref name="tokens"/> [B, T] int64 → logits [B, T, V] (causal).</summary>
    public override Tensor forward(Tensor tokens)
    {
        using var scope = NewDisposeScope();
        long b = tokens.shape[0], t = tokens.shape[1];
        var positions = LiveScalars.Arange(t, tokens.device).unsqueeze(0).expand(b, t);
        var h = model.embed_tokens.forward(tokens);
        foreach (var layer in model.layers) h = ((TransformerBlock)layer).Forward(h, positions, rope, null, causal: true);
        return Head(model.norm.forward(h)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Incremental forward with a KV cache. Row b of <paramref name="tokens"/> [B, T] continues the sequence held
    /// in cache slot <paramref name="slots"/>[b], whose first new position is <paramref name="starts"/>[b]
    /// (the number of tokens already cached). Rows may have different histories (continuous batching).
    /// Returns logits [B, T, V], or [B, 1, V] for the last position only when <paramref name="lastOnly"/>.
    /// </summary>
    public Tensor ForwardCached(Tensor tokens, KvCache cache, IReadOnlyList<int> slots, IReadOnlyList<int> starts, bool lastOnly = false)
    {
        using var scope = NewDisposeScope();
        long b = tokens.shape[0], t = tokens.shape[1];
        if (slots.Count != b || starts.Count != b) throw new ArgumentException("one slot and one start per row");
        var device = tokens.device;
        long[] startArray = new long[b], slotArray = new long[b];
        for (int i = 0; i < b; i++)
        {
            startArray[i] = starts[i];
            slotArray[i] = slots[i];
            if (starts[i] + t > cache.MaxLength) throw new InvalidOperationException($"sequence exceeds the KV cache length {cache.MaxLength}");
        }
        var start = torch.tensor(startArray, device: device);                                      // [B]
        if (UseCompiledGraph && device.type == DeviceType.CPU && !torch.is_grad_enabled() && graph.Value is { } g)
        {
            // One TorchScript call for the whole step (see CompiledForward): same cache, same numbers.
            // Numbers go in as Scalars kept alive through the call (invoke would convert them implicitly: LiveScalars).
            // invoke passes int and bool by value but turns long/double into temporary Scalars nothing keeps alive
            // during the call: the key count is a Scalar held until it returns, eps one that lives with the model.
            using Scalar keys = (startArray.Max() + t).ToScalar();
            var logits = (Tensor)CompiledForward.Unit.invoke("decode", tokens, start, torch.tensor(slotArray, device: device),
                keys, lastOnly, g.Embed, g.Cos, g.Sin, g.Blocks, cache.Keys, cache.Values,
                model.norm.Weight, g.Head, Config.NumAttentionHeads, Config.NumKeyValueHeads, Config.HeadDim, g.Eps);
            return logits.MoveToOuterDisposeScope();
        }
        var positions = start.unsqueeze(1).Plus(LiveScalars.Arange(t, device).unsqueeze(0));        // [B, T]
        long length = starts.Max() + t;                                                            // keys to attend
        // Key j is visible to query (b, i) when j ≤ start_b + i: causal within the step, full over the history.
        var keyPos = LiveScalars.Arange(length, device).view(1, 1, 1, length);                   // [1,1,1,L]
        var mask = keyPos <= positions.view(b, 1, t, 1);                                           // [B,1,T,L]
        var slotIndex = torch.tensor(slotArray, device: device);
        var h = model.embed_tokens.forward(tokens);
        int l = 0;
        foreach (var layer in model.layers)
            h = ((TransformerBlock)layer).ForwardCached(h, positions, rope, cache, l++, slots, starts, slotIndex, mask);
        if (lastOnly) h = h.narrow(1, t - 1, 1);
        return Head(model.norm.forward(h)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Run <see cref="ForwardCached"/> as one compiled TorchScript graph when no gradient is needed and the model is on
    /// the CPU (default; the graph's rotary tables stay on the CPU). False
    /// forces the eager modules (the reference the graph is tested against). BF16 layers always run eagerly.
    /// </summary>
    public bool UseCompiledGraph { get; set; } = true;

    /// <summary>True when <see cref="ForwardCached"/> runs as one compiled graph (inference, no BF16 layer).</summary>
    public bool RunsCompiledGraph => UseCompiledGraph && model.embed_tokens.weight!.device_type == DeviceType.CPU && graph.Value is not null;

    // Built on first use, once (Lazy's default mode): null when a layer cannot run in the graph (BF16).
    private readonly Lazy<GraphWeights?> graph;

    /// <summary>The flat weight lists of the compiled forward, built once (they reference the live parameters).</summary>
    private GraphWeights? BuildGraph()
    {
        using var scope = NewDisposeScope();
        var blocks = CompiledForward.BlockTensors(model.layers.Cast<TransformerBlock>());
        // Embedding.weight makes a new wrapper on every access, owned by the current dispose scope: keep one.
        var embed = model.embed_tokens.weight!.DetachFromDisposeScope();
        Tensor[]? head;
        if (lm_head is { } h) head = h.GraphTensors();
        else
        {
            var w = embed;
            var zero = torch.zeros(Config.VocabSize, device: w.device).DetachFromDisposeScope();
            head = [w, zero, w, w, w];
            tiedHeadBias = zero;
        }
        if (blocks is null || head is null) return null;
        var sin = CompiledForward.SignedSin(rope.Sin).DetachFromDisposeScope();
        return new GraphWeights(embed, blocks, head, rope.Cos, sin, model.norm.Eps.ToScalar());
    }

    private Tensor? tiedHeadBias;

    /// <summary>The graph's tensors, and its one double argument as a Scalar that lives as long as the model.</summary>
    private sealed record GraphWeights(Tensor Embed, Tensor[] Blocks, Tensor[] Head, Tensor Cos, Tensor Sin, Scalar Eps);

    /// <summary>Every projection (attention, MLP, untied head) as (HF name prefix, layer), for quantization.</summary>
    public IEnumerable<(string Name, LinearLayer Layer)> LinearLayers() =>
        named_modules().Where(m => m.module is LinearLayer).Select(m => (m.name, (LinearLayer)m.module));

    /// <summary>[.., D] → [.., V]; the tied head reuses the embedding matrix [V, D].</summary>
    private Tensor Head(Tensor h) => lm_head is { } head ? head.forward(h) : F.linear(h, model.embed_tokens.weight!);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            rope.Dispose();
            if (graph.IsValueCreated && graph.Value is { } g)
            {
                g.Sin.Dispose();
                g.Embed.Dispose();
                g.Eps.Dispose();
            }
            tiedHeadBias?.Dispose();
        }
        base.Dispose(disposing);
    }

    /// <summary>The "model." prefix of the HF names.</summary>
    private sealed class DecoderBody : nn.Module<Tensor, Tensor>
    {
        public readonly Embedding embed_tokens;
        public readonly ModuleList<nn.Module<Tensor, Tensor>> layers = new();
        public readonly RmsNorm norm;

        public DecoderBody(DecoderConfig c) : base("model")
        {
            embed_tokens = nn.Embedding(c.VocabSize, c.HiddenSize);
            if (ParameterInit.Enabled)
                using (torch.no_grad()) embed_tokens.weight!.normal_(0, 0.02);
            for (int i = 0; i < c.NumHiddenLayers; i++)
                layers.Add(new TransformerBlock(c.HiddenSize, c.IntermediateSize, c.NumAttentionHeads, c.NumKeyValueHeads, c.HeadDim, c.AttentionBias, c.RmsNormEps));
            norm = new RmsNorm(c.HiddenSize, c.RmsNormEps);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => throw new InvalidOperationException("DecoderLM drives the body");
    }
}
