using System.Text.Json.Nodes;

namespace MoltBot.Inference.Models;

/// <summary>
/// config.json of an <see cref="NgramClassifier"/> (model_type "moltbot_nlu_ngram"): the bag's size, the labels, and
/// the tokenizer facts it shares with the encoders it may be ensembled with (vocabulary size, padding id, positions).
/// </summary>
public sealed record NgramClassifierConfig
{
    public const string ModelTypeName = "moltbot_nlu_ngram";

    /// <summary>Rows of the hashed feature table.</summary>
    public int NumBuckets { get; init; } = 16384;
    /// <summary>Width of a feature vector (= the sentence embedding size).</summary>
    public int EmbeddingDim { get; init; } = 48;
    /// <summary>Longest character n-gram (1…this).</summary>
    public int MaxCharNgram { get; init; } = 4;
    public int VocabSize { get; init; }
    public int PadTokenId { get; init; }
    public int MaxPositionEmbeddings { get; init; } = 96;
    public IReadOnlyList<string> Intents { get; init; } = [];
    /// <summary>The label set of the encoders it is ensembled with; this model predicts no tags (every token "O").</summary>
    public IReadOnlyList<string> BioTags { get; init; } = [];

    public void Validate(string file)
    {
        void Require(bool ok, string what)
        {
            if (!ok) throw new ModelFormatException(file, null, what);
        }
        Require(NumBuckets > 0, "num_buckets must be > 0");
        Require(EmbeddingDim > 0, "embedding_dim must be > 0");
        Require(MaxCharNgram is >= 1 and <= 8, "max_char_ngram must be between 1 and 8");
        Require(VocabSize > 0, "vocab_size must be > 0");
        Require(PadTokenId >= 0 && PadTokenId < VocabSize, "pad_token_id must be a token id");
        Require(MaxPositionEmbeddings > 0, "max_position_embeddings must be > 0");
        Require(Intents.Count > 0 && Intents.Distinct().Count() == Intents.Count, "intents must be a non-empty list of distinct labels");
        Require(BioTags.Count > 0 && BioTags[0] == "O", "bio_tags must start with \"O\"");
    }

    /// <summary>
    /// What callers of <see cref="NluModel.Config"/> read (vocabulary, padding, positions, labels, embedding size).
    /// The encoder-only sizes say "no transformer": hidden = embedding_dim, 0 layers, 0 heads.
    /// </summary>
    public NluEncoderConfig AsNluConfig() => new()
    {
        VocabSize = VocabSize,
        HiddenSize = EmbeddingDim,
        IntermediateSize = 0,
        NumHiddenLayers = 0,
        NumAttentionHeads = 0,
        MaxPositionEmbeddings = MaxPositionEmbeddings,
        EmbeddingSize = EmbeddingDim,
        PadTokenId = PadTokenId,
        Intents = Intents,
        BioTags = BioTags,
    };

    public static NgramClassifierConfig Load(string configFile) => FromJson(ConfigJson.Load(configFile));

    internal static NgramClassifierConfig FromJson(ConfigJson c)
    {
        if (c.String("model_type") != ModelTypeName)
            throw new ModelFormatException(c.File, null, $"model_type must be \"{ModelTypeName}\" for an n-gram NLU folder");
        var cfg = new NgramClassifierConfig
        {
            NumBuckets = c.Int("num_buckets"),
            EmbeddingDim = c.Int("embedding_dim"),
            MaxCharNgram = c.Int("max_char_ngram", 4),
            VocabSize = c.Int("vocab_size"),
            PadTokenId = c.Int("pad_token_id"),
            MaxPositionEmbeddings = c.Int("max_position_embeddings", 96),
            Intents = c.StringList("intents"),
            BioTags = c.StringList("bio_tags"),
        };
        cfg.Validate(c.File);
        return cfg;
    }

    public JsonObject ToJson() => new()
    {
        ["architectures"] = new JsonArray("MoltBotNluNgram"),
        ["model_type"] = ModelTypeName,
        ["num_buckets"] = NumBuckets,
        ["embedding_dim"] = EmbeddingDim,
        ["max_char_ngram"] = MaxCharNgram,
        ["vocab_size"] = VocabSize,
        ["pad_token_id"] = PadTokenId,
        ["max_position_embeddings"] = MaxPositionEmbeddings,
        ["intents"] = new JsonArray(Intents.Select(i => (JsonNode)i).ToArray()),
        ["bio_tags"] = new JsonArray(BioTags.Select(i => (JsonNode)i).ToArray()),
        ["has_tag_head"] = false,
        ["torch_dtype"] = "float32",
    };
}
