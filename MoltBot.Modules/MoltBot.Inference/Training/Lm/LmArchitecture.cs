using MoltBot.Inference.Models;
using MoltBot.Inference.Training.Nlu;

namespace MoltBot.Inference.Training.Lm;

/// <summary>Size of a decoder to train; vocabulary, special ids and chat format come from the tokenizer or the teacher.</summary>
public sealed record LmArchitecture(int Hidden = 256, int Layers = 6, int Heads = 4, int KvHeads = 4, int Intermediate = 704, bool Tied = false, int MaxPositions = 256)
{
    /// <summary>HF config.json keys: hidden_size, num_hidden_layers, num_attention_heads, num_key_value_heads, intermediate_size, tie_word_embeddings, max_position_embeddings.</summary>
    public static LmArchitecture FromJson(string jsonOrPath, LmArchitecture d)
    {
        var o = ArchitectureJson.Parse(jsonOrPath);
        int heads = ArchitectureJson.Int(o, "num_attention_heads", d.Heads);
        return new LmArchitecture(
            ArchitectureJson.Int(o, "hidden_size", d.Hidden),
            ArchitectureJson.Int(o, "num_hidden_layers", d.Layers),
            heads,
            ArchitectureJson.Int(o, "num_key_value_heads", heads),
            ArchitectureJson.Int(o, "intermediate_size", d.Intermediate),
            ArchitectureJson.Bool(o, "tie_word_embeddings", d.Tied),
            ArchitectureJson.Int(o, "max_position_embeddings", d.MaxPositions));
    }

    /// <summary>A Llama config of this size over <paramref name="basis"/>'s vocabulary and special tokens.</summary>
    public DecoderConfig Apply(DecoderConfig basis) => basis with
    {
        ModelType = "llama",
        HiddenSize = Hidden,
        NumHiddenLayers = Layers,
        NumAttentionHeads = Heads,
        NumKeyValueHeads = KvHeads,
        IntermediateSize = Intermediate,
        TieWordEmbeddings = Tied,
        MaxPositionEmbeddings = MaxPositions,
        AttentionBias = false,
        HeadDimOverride = null,
    };
}
