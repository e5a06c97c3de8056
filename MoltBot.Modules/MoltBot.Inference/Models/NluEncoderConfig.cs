using System.Text.Json.Nodes;

namespace MoltBot.Inference.Models;

/// <summary>
/// Hyper-parameters and label lists of the NLU encoder, stored in its config.json (model_type "moltbot_nlu").
/// <see cref="Intents"/> index = intent head output; <see cref="BioTags"/> index = tag head output ("O", "B-x", "I-x").
/// </summary>
public sealed record NluEncoderConfig
{
    public const string ModelTypeName = "moltbot_nlu";

    public int VocabSize { get; init; }
    public int HiddenSize { get; init; }
    public int IntermediateSize { get; init; }
    public int NumHiddenLayers { get; init; }
    public int NumAttentionHeads { get; init; }
    public int MaxPositionEmbeddings { get; init; } = 128;
    public double RmsNormEps { get; init; } = 1e-6;
    public double RopeTheta { get; init; } = 10000;
    /// <summary>Size of the pooled, L2-normalized sentence embedding.</summary>
    public int EmbeddingSize { get; init; }
    public int PadTokenId { get; init; }
    public IReadOnlyList<string> Intents { get; init; } = [];
    public IReadOnlyList<string> BioTags { get; init; } = [];

    public int HeadDim => HiddenSize / NumAttentionHeads;

    /// <summary>BIO tags for entity types: "O", then "B-t", "I-t" for each type.</summary>
    public static IReadOnlyList<string> BioTagsFor(IEnumerable<string> entityTypes) =>
        ["O", .. entityTypes.SelectMany(t => new[] { "B-" + t, "I-" + t })];

    public void Validate(string file)
    {
        void Require(bool ok, string what)
        {
            if (!ok) throw new ModelFormatException(file, null, what);
        }
        Require(VocabSize > 0, "vocab_size must be > 0");
        Require(HiddenSize > 0 && NumAttentionHeads > 0 && HiddenSize % NumAttentionHeads == 0, "num_attention_heads must divide hidden_size");
        Require(HeadDim % 2 == 0, "head dimension must be even (rotary embedding)");
        Require(IntermediateSize > 0, "intermediate_size must be > 0");
        Require(NumHiddenLayers > 0, "num_hidden_layers must be > 0");
        Require(EmbeddingSize > 0, "embedding_size must be > 0");
        Require(MaxPositionEmbeddings > 0, "max_position_embeddings must be > 0");
        Require(PadTokenId >= 0 && PadTokenId < VocabSize, "pad_token_id must be a token id");
        Require(Intents.Count > 0 && Intents.Distinct().Count() == Intents.Count, "intents must be a non-empty list of distinct labels");
        Require(BioTags.Count > 0 && BioTags[0] == "O", "bio_tags must start with \"O\"");
        Require(BioTags.Skip(1).All(t => t.StartsWith("B-", StringComparison.Ordinal) || t.StartsWith("I-", StringComparison.Ordinal)),
            "bio_tags after \"O\" must start with B- or I-");
    }

    /// <summary>
    /// The config.json keys whose values differ from <paramref name="other"/>'s, in config order: what every model that
    /// shares this one's tokenizer and labels must agree on (vocabulary, positions, embedding size, padding, labels), plus,
    /// with <paramref name="layerSizes"/>, the sizes a weight copy needs (warm start).
    /// </summary>
    public IEnumerable<(string Key, string Mine, string Other)> Differences(NluEncoderConfig other, bool layerSizes)
    {
        var pairs = new List<(string, string, string)>
        {
            ("vocab_size", VocabSize.ToString(), other.VocabSize.ToString()),
        };
        if (layerSizes)
        {
            pairs.Add(("hidden_size", HiddenSize.ToString(), other.HiddenSize.ToString()));
            pairs.Add(("intermediate_size", IntermediateSize.ToString(), other.IntermediateSize.ToString()));
            pairs.Add(("num_hidden_layers", NumHiddenLayers.ToString(), other.NumHiddenLayers.ToString()));
            pairs.Add(("num_attention_heads", NumAttentionHeads.ToString(), other.NumAttentionHeads.ToString()));
        }
        pairs.Add(("max_position_embeddings", MaxPositionEmbeddings.ToString(), other.MaxPositionEmbeddings.ToString()));
        pairs.Add(("embedding_size", EmbeddingSize.ToString(), other.EmbeddingSize.ToString()));
        pairs.Add(("pad_token_id", PadTokenId.ToString(), other.PadTokenId.ToString()));
        pairs.Add(("intents", string.Join(',', Intents), string.Join(',', other.Intents)));
        pairs.Add(("bio_tags", string.Join(',', BioTags), string.Join(',', other.BioTags)));
        return pairs.Where(p => p.Item2 != p.Item3);
    }

    public static NluEncoderConfig Load(string configFile) => FromJson(ConfigJson.Load(configFile));

    internal static NluEncoderConfig FromJson(ConfigJson c)
    {
        if (c.String("model_type") != ModelTypeName)
            throw new ModelFormatException(c.File, null, $"model_type must be \"{ModelTypeName}\" for an NLU folder");
        var cfg = new NluEncoderConfig
        {
            VocabSize = c.Int("vocab_size"),
            HiddenSize = c.Int("hidden_size"),
            IntermediateSize = c.Int("intermediate_size"),
            NumHiddenLayers = c.Int("num_hidden_layers"),
            NumAttentionHeads = c.Int("num_attention_heads"),
            MaxPositionEmbeddings = c.Int("max_position_embeddings", 128),
            RmsNormEps = c.Double("rms_norm_eps", 1e-6),
            RopeTheta = c.Double("rope_theta", 10000),
            EmbeddingSize = c.Int("embedding_size"),
            PadTokenId = c.Int("pad_token_id", 0),
            Intents = c.StringList("intents"),
            BioTags = c.StringList("bio_tags"),
        };
        cfg.Validate(c.File);
        return cfg;
    }

    public JsonObject ToJson() => new()
    {
        ["architectures"] = new JsonArray("MoltBotNluEncoder"),
        ["model_type"] = ModelTypeName,
        ["vocab_size"] = VocabSize,
        ["hidden_size"] = HiddenSize,
        ["intermediate_size"] = IntermediateSize,
        ["num_hidden_layers"] = NumHiddenLayers,
        ["num_attention_heads"] = NumAttentionHeads,
        ["max_position_embeddings"] = MaxPositionEmbeddings,
        ["rms_norm_eps"] = RmsNormEps,
        ["rope_theta"] = RopeTheta,
        ["embedding_size"] = EmbeddingSize,
        ["pad_token_id"] = PadTokenId,
        ["intents"] = new JsonArray(Intents.Select(i => (JsonNode)i).ToArray()),
        ["bio_tags"] = new JsonArray(BioTags.Select(i => (JsonNode)i).ToArray()),
        ["torch_dtype"] = "float32",
    };
}
