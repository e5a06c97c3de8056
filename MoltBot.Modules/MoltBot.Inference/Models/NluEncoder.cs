using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace MoltBot.Inference.Models;

/// <summary>
/// Small bidirectional transformer for NLU: embed_tokens → N × TransformerBlock (no causal mask, padding masked)
/// → RMSNorm, then three heads:
/// intent_head (mean-pooled hidden → intent logits), tag_head (per-token BIO logits) and pooler
/// (mean-pooled hidden → L2-normalized sentence embedding).
/// Tensor names: encoder.embed_tokens.weight, encoder.layers.N.…, encoder.norm.weight, intent_head.{weight,bias},
/// tag_head.{weight,bias}, pooler.{weight,bias}.
/// </summary>
public sealed class NluEncoder : NluModel
{
    private readonly EncoderBody encoder;
    private readonly LinearLayer intent_head;
    private readonly LinearLayer tag_head;
    private readonly LinearLayer pooler;
    private readonly RotaryEmbedding rope;

    public NluEncoder(NluEncoderConfig config) : base("NluEncoder")
    {
        config.Validate("NluEncoderConfig");
        Config = config;
        encoder = new EncoderBody(config);
        intent_head = new LinearLayer(config.HiddenSize, config.Intents.Count, true);
        tag_head = new LinearLayer(config.HiddenSize, config.BioTags.Count, true);
        pooler = new LinearLayer(config.HiddenSize, config.EmbeddingSize, true);
        rope = new RotaryEmbedding(config.HeadDim, config.MaxPositionEmbeddings, config.RopeTheta);
        RegisterComponents();
        graph = new Lazy<GraphWeights?>(BuildGraph);
    }

    public override NluEncoderConfig Config { get; }

    /// <param name="tokens">[B, T] int64, right-padded with PadTokenId.</param>
    /// <param name="attentionMask">[B, T] int64/bool, 1 for real tokens, 0 for padding.</param>
    public override NluOutput forward(Tensor tokens, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        var valid = attentionMask.to(ScalarType.Bool);                                      // [B, T]
        var h = Body(tokens, valid);                                                       // [B, T, D]
        var w = valid.to(h.dtype).unsqueeze(-1);                                           // [B, T, 1]
        var pooled = (h * w).sum(1) / w.sum(1).clamp_min(LiveScalars.One);                              // [B, D] mean over real tokens
        var intent = intent_head.forward(pooled);                                          // [B, I]
        var tags = tag_head.forward(h);                                                    // [B, T, G]
        var embedding = F.normalize(pooler.forward(pooled), p: 2, dim: -1);               // [B, E]
        return new NluOutput(intent.MoveToOuterDisposeScope(), tags.MoveToOuterDisposeScope(), embedding.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The final normalised hidden state of every token [B, T, D] (the heads' input), for masked-LM pre-training
    /// (`pretrain nlu`), whose output layer is the transposed token embedding <see cref="TokenEmbedding"/>.
    /// </summary>
    public Tensor HiddenStates(Tensor tokens, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        return Body(tokens, attentionMask.to(ScalarType.Bool)).MoveToOuterDisposeScope();
    }

    /// <summary>The token embedding matrix [V, D] (encoder.embed_tokens.weight).</summary>
    public Tensor TokenEmbedding => encoder.embed_tokens.weight!;

    private Tensor Body(Tensor tokens, Tensor valid)
    {
        long b = tokens.shape[0], t = tokens.shape[1];
        var positions = LiveScalars.Arange(t, tokens.device).unsqueeze(0).expand(b, t);  // [B, T]
        var mask = valid.view(b, 1, 1, t).expand(b, 1, t, t);                              // [B,1,T,T]: attend to real tokens
        var h = encoder.embed_tokens.forward(tokens);                                      // [B, T, D]
        foreach (var layer in encoder.layers) h = ((TransformerBlock)layer).Forward(h, positions, rope, mask, causal: false);
        return encoder.norm.forward(h);
    }

    /// <summary>
    /// Inference: intent probabilities [B, I], BIO tag ids [B, T] (int64) and the embedding [B, E]. Runs as one compiled
    /// TorchScript graph (see <see cref="CompiledForward"/>) when no gradient is needed and <see cref="UseCompiledGraph"/>;
    /// otherwise through <see cref="forward"/> (same numbers within float rounding).
    /// </summary>
    public override NluBatchOutput Predict(Tensor tokens, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        if (Graph(tokens) is { } g)
        {
            var (probs, tags, emb) = Invoke("nlu", g, tokens, attentionMask);
            return new NluBatchOutput(probs.MoveToOuterDisposeScope(), tags.MoveToOuterDisposeScope(), emb.MoveToOuterDisposeScope());
        }
        var output = forward(tokens, attentionMask); // all three land in this method's scope
        return new NluBatchOutput(output.IntentLogits.softmax(-1).MoveToOuterDisposeScope(), output.TagLogits.argmax(-1).MoveToOuterDisposeScope(),
            output.Embedding.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Like <see cref="Predict"/> but with BIO tag probabilities [B, T, G] instead of ids: what an ensemble averages.
    /// Compiled graph when <see cref="Predict"/> would use it, else the eager modules.
    /// </summary>
    public override NluProbabilities PredictProbabilities(Tensor tokens, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        if (Graph(tokens) is { } g)
        {
            var (probs, tags, emb) = Invoke("nlu_probs", g, tokens, attentionMask);
            return new NluProbabilities(probs.MoveToOuterDisposeScope(), tags.MoveToOuterDisposeScope(), emb.MoveToOuterDisposeScope());
        }
        var output = forward(tokens, attentionMask);
        return new NluProbabilities(output.IntentLogits.softmax(-1).MoveToOuterDisposeScope(), output.TagLogits.softmax(-1).MoveToOuterDisposeScope(),
            output.Embedding.MoveToOuterDisposeScope());
    }

    /// <summary>The graph's weights when this call may run compiled (inference on CPU, no BF16 layer), else null.</summary>
    private GraphWeights? Graph(Tensor tokens) =>
        UseCompiledGraph && tokens.device_type == DeviceType.CPU && !torch.is_grad_enabled() ? graph.Value : null;

    private (Tensor, Tensor, Tensor) Invoke(string function, GraphWeights g, Tensor tokens, Tensor attentionMask) =>
        ((Tensor, Tensor, Tensor))CompiledForward.Unit.invoke(function, tokens, attentionMask.to(ScalarType.Bool),
            g.Embed, g.Cos, g.Sin, g.Blocks, Config.NumHiddenLayers, encoder.norm.Weight, g.Heads,
            Config.NumAttentionHeads, Config.HeadDim, g.Eps); // ints go by value; eps as a Scalar that lives with the model

    /// <summary>Run <see cref="Predict"/> as one compiled graph when possible (default); false forces the eager modules.</summary>
    public override bool UseCompiledGraph { get; set; } = true;

    /// <summary>True when <see cref="Predict"/> runs as one compiled graph (inference, no BF16 layer).</summary>
    public override bool RunsCompiledGraph => UseCompiledGraph && graph.Value is not null;

    // Built on first use, once (Lazy's default mode): null when a layer cannot run in the graph (BF16).
    private readonly Lazy<GraphWeights?> graph;

    private GraphWeights? BuildGraph()
    {
        var blocks = CompiledForward.BlockTensors(encoder.layers.Cast<TransformerBlock>());
        var heads = new List<Tensor>();
        foreach (var head in new[] { intent_head, tag_head, pooler })
        {
            if (head.GraphTensors() is not { } t) break;
            heads.AddRange(t);
        }
        if (blocks is null || heads.Count != 3 * CompiledForward.LinearSlots) return null;
        using var scope = NewDisposeScope();
        return new GraphWeights(encoder.embed_tokens.weight!.DetachFromDisposeScope(), blocks, heads.ToArray(), rope.Cos, CompiledForward.SignedSin(rope.Sin).DetachFromDisposeScope(),
            encoder.norm.Eps.ToScalar());
    }

    /// <summary>The graph's tensors, and its one double argument as a Scalar that lives as long as the model.</summary>
    private sealed record GraphWeights(Tensor Embed, Tensor[] Blocks, Tensor[] Heads, Tensor Cos, Tensor Sin, Scalar Eps);

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
        }
        base.Dispose(disposing);
    }

    private sealed class EncoderBody : nn.Module<Tensor, Tensor>
    {
        public readonly Embedding embed_tokens;
        public readonly ModuleList<nn.Module<Tensor, Tensor>> layers = new();
        public readonly RmsNorm norm;

        public EncoderBody(NluEncoderConfig c) : base("encoder")
        {
            embed_tokens = nn.Embedding(c.VocabSize, c.HiddenSize);
            if (ParameterInit.Enabled)
                using (torch.no_grad()) embed_tokens.weight!.normal_(0, 0.02);
            for (int i = 0; i < c.NumHiddenLayers; i++)
                layers.Add(new TransformerBlock(c.HiddenSize, c.IntermediateSize, c.NumAttentionHeads, c.NumAttentionHeads, c.HeadDim, false, c.RmsNormEps));
            norm = new RmsNorm(c.HiddenSize, c.RmsNormEps);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => throw new InvalidOperationException("NluEncoder drives the body");
    }
}

/// <summary>Inference outputs of <see cref="NluEncoder.Predict"/>: intent probabilities [B, I], tag ids [B, T], embedding [B, E].</summary>
public sealed record NluBatchOutput(Tensor IntentProbs, Tensor Tags, Tensor Embedding) : IDisposable
{
    public void Dispose()
    {
        IntentProbs.Dispose();
        Tags.Dispose();
        Embedding.Dispose();
    }
}

/// <summary>
/// Outputs of <see cref="NluEncoder.PredictProbabilities"/>: intent probabilities [B, I], BIO tag probabilities [B, T, G],
/// embedding [B, E].
/// </summary>
public sealed record NluProbabilities(Tensor IntentProbs, Tensor TagProbs, Tensor Embedding) : IDisposable
{
    public void Dispose()
    {
        IntentProbs.Dispose();
        TagProbs.Dispose();
        Embedding.Dispose();
    }
}

/// <summary>Outputs of <see cref="NluEncoder"/>: intent logits [B, I], BIO tag logits [B, T, G], embedding [B, E].</summary>
public sealed record NluOutput(Tensor IntentLogits, Tensor TagLogits, Tensor Embedding) : IDisposable
{
    public void Dispose()
    {
        IntentLogits.Dispose();
        TagLogits.Dispose();
        Embedding.Dispose();
    }
}
