using MoltBot.Inference.Tokenization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace MoltBot.Inference.Models;

/// <summary>
/// fastText-style intent classifier (model_type moltbot_nlu_ngram): a model of another class than the transformer
/// encoders, meant as an ensemble member whose mistakes differ from theirs. The token ids it is given (the shared
/// byte-level BPE) are decoded back to text; the text's hashed word uni/bigrams and character 1–4-grams
/// (<see cref="NgramFeatures"/>) index a bucket table, their mean is the sentence vector, and one linear layer gives the
/// intent logits. No word order beyond bigrams, no attention, no tag head: it predicts no entities (every token
/// "O"), and an ensemble takes its BIO tags only from its members that have a tag head (<see cref="HasTagHead"/>).
/// Tensor names: ngram_embeddings.weight [num_buckets, embedding_dim], intent_head.{weight [I, D], bias [I]}.
/// </summary>
public sealed class NgramClassifier : NluModel
{
    // Logit given to every tag but "O" in the constant tag output: softmax puts ≈ 1 on "O".
    private static readonly Scalar NoTag = (-1e4).ToScalar();

    private readonly Embedding ngram_embeddings;
    private readonly LinearLayer intent_head;
    private readonly TextTokenizer tokenizer;

    /// <param name="tokenizer">The tokenizer whose ids <see cref="forward"/> receives (decoded back to text).</param>
    public NgramClassifier(NgramClassifierConfig config, TextTokenizer tokenizer) : base("NgramClassifier")
    {
        config.Validate("NgramClassifierConfig");
        NgramConfig = config;
        Config = config.AsNluConfig();
        this.tokenizer = tokenizer;
        ngram_embeddings = nn.Embedding(config.NumBuckets, config.EmbeddingDim);
        if (ParameterInit.Enabled)
            using (torch.no_grad()) ngram_embeddings.weight!.normal_(0, 0.1);
        intent_head = new LinearLayer(config.EmbeddingDim, config.Intents.Count, true);
        RegisterComponents();
    }

    public NgramClassifierConfig NgramConfig { get; }

    public override NluEncoderConfig Config { get; }

    /// <summary>False: no BIO tag head (the tag output says "O" everywhere).</summary>
    public override bool HasTagHead => false;

    /// <summary>The bucket indices of each row's features, as the model sees them (decoded text of the real tokens).</summary>
    public int[][] FeatureBuckets(Tensor tokens, Tensor attentionMask)
    {
        long b = tokens.shape[0], t = tokens.shape[1];
        var ids = tokens.to(ScalarType.Int64).cpu().data<long>().ToArray();
        var mask = attentionMask.to(ScalarType.Int64).cpu().data<long>().ToArray();
        var rows = new int[b][];
        for (int r = 0; r < b; r++)
        {
            var real = new List<int>((int)t);
            for (int c = 0; c < t; c++)
                if (mask[r * t + c] != 0) real.Add((int)ids[r * t + c]);
            rows[r] = NgramFeatures.Buckets(tokenizer.Decode(real), NgramConfig.MaxCharNgram, NgramConfig.NumBuckets);
        }
        return rows;
    }

    /// <summary>Sentence vectors [B, D]: the mean of each row's feature vectors (zeros for a row without features).</summary>
    private Tensor Bag(Tensor tokens, Tensor attentionMask)
    {
        var rows = FeatureBuckets(tokens, attentionMask);
        int b = rows.Length, width = Math.Max(1, rows.Max(r => r.Length));
        var index = new long[b * width];
        var weight = new float[b * width];
        for (int r = 0; r < b; r++)
            for (int j = 0; j < rows[r].Length; j++)
            {
                index[r * width + j] = rows[r][j];
                weight[r * width + j] = 1f;                                   // padding slots point at row 0 with weight 0
            }
        var device = ngram_embeddings.weight!.device;
        var idx = torch.tensor(index, [b, width], device: device);           // [B, F]
        var w = torch.tensor(weight, [b, width], device: device);            // [B, F]
        var vectors = ngram_embeddings.forward(idx);                          // [B, F, D]
        var sum = (vectors * w.unsqueeze(-1)).sum(1);                         // [B, D]
        return sum / w.sum(1, keepdim: true).clamp_min(LiveScalars.One);      // [B, D]
    }

    /// <summary>Intent logits [B, I] and the normalised sentence embedding [B, D], in the caller's dispose scope.</summary>
    private (Tensor Intent, Tensor Embedding) IntentsAndEmbedding(Tensor tokens, Tensor attentionMask)
    {
        var bag = Bag(tokens, attentionMask);                                  // [B, D]
        return (intent_head.forward(bag), F.normalize(bag, p: 2, dim: -1));   // [B, I], [B, D]
    }

    /// <param name="tokens">[B, T] int64, right-padded with PadTokenId.</param>
    /// <param name="attentionMask">[B, T] int64/bool, 1 for real tokens, 0 for padding.</param>
    /// <returns>Intent logits [B, I]; constant tag logits [B, T, G] ("O" 0, every other tag -1e4); embedding [B, D].</returns>
    public override NluOutput forward(Tensor tokens, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        var (intent, embedding) = IntentsAndEmbedding(tokens, attentionMask);
        var tags = torch.full(tokens.shape[0], tokens.shape[1], Config.BioTags.Count, NoTag, device: ngram_embeddings.weight!.device);   // [B, T, G]
        tags.select(-1, 0).fill_(LiveScalars.Zero);                           // "O" 0
        return new NluOutput(intent.MoveToOuterDisposeScope(), tags.MoveToOuterDisposeScope(), embedding.MoveToOuterDisposeScope());
    }

    /// <summary>Intent probabilities [B, I], tag ids [B, T] (all 0 = "O"), embedding [B, D]. No tag logits are built.</summary>
    public override NluBatchOutput Predict(Tensor tokens, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        var (intent, embedding) = IntentsAndEmbedding(tokens, attentionMask);
        var tags = torch.zeros(tokens.shape[0], tokens.shape[1], ScalarType.Int64);
        return new NluBatchOutput(intent.softmax(-1).MoveToOuterDisposeScope(), tags.MoveToOuterDisposeScope(), embedding.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Intent probabilities [B, I], tag probabilities [B, T, G] (1 on "O": the softmax of the constant tag logits, whose
    /// exp(-1e4) is 0 in fp32; not used by an ensemble), embedding [B, D].
    /// </summary>
    public override NluProbabilities PredictProbabilities(Tensor tokens, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        var (intent, embedding) = IntentsAndEmbedding(tokens, attentionMask);
        var tags = torch.zeros(tokens.shape[0], tokens.shape[1], Config.BioTags.Count, device: ngram_embeddings.weight!.device);   // [B, T, G]
        tags.select(-1, 0).fill_(LiveScalars.One);
        return new NluProbabilities(intent.softmax(-1).MoveToOuterDisposeScope(), tags.MoveToOuterDisposeScope(), embedding.MoveToOuterDisposeScope());
    }

    /// <summary>Has no effect: the bag is a handful of eager ops (there is no compiled graph for it).</summary>
    public override bool UseCompiledGraph { get; set; } = true;

    public override bool RunsCompiledGraph => false;
}
