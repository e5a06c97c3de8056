using System.Text.Json.Nodes;

namespace MoltBot.Inference.Models;

/// <summary>
/// Hyper-parameters of a Llama-family decoder, read from a Hugging Face config.json (llama, qwen2, mistral, ...).
/// Property names follow the HF keys so the mapping is obvious.
/// </summary>
public sealed record DecoderConfig
{
    public string ModelType { get; init; } = "llama";
    public int VocabSize { get; init; }
    public int HiddenSize { get; init; }
    public int IntermediateSize { get; init; }
    public int NumHiddenLayers { get; init; }
    public int NumAttentionHeads { get; init; }
    /// <summary>Grouped-query attention: K/V heads shared by NumAttentionHeads / NumKeyValueHeads query heads.</summary>
    public int NumKeyValueHeads { get; init; }
    public double RmsNormEps { get; init; } = 1e-6;
    public double RopeTheta { get; init; } = 10000;
    public bool TieWordEmbeddings { get; init; }
    public int MaxPositionEmbeddings { get; init; } = 2048;
    /// <summary>q/k/v projections carry a bias (Qwen2 sets this implicitly).</summary>
    public bool AttentionBias { get; init; }
    public int? BosTokenId { get; init; }
    public int? EosTokenId { get; init; }
    /// <summary>Explicit head size (some configs set head_dim); otherwise HiddenSize / NumAttentionHeads.</summary>
    public int? HeadDimOverride { get; init; }
    /// <summary>"chatml", "llama3" or "llama2"; null = detect from tokenizer files / model type.</summary>
    public string? ChatFormat { get; init; }

    public int HeadDim => HeadDimOverride ?? HiddenSize / NumAttentionHeads;

    /// <summary>Throws when the numbers cannot describe a decoder (e.g. heads not dividing the width).</summary>
    public void Validate(string file)
    {
        void Require(bool ok, string what)
        {
            if (!ok) throw new ModelFormatException(file, null, what);
        }
        Require(VocabSize > 0, "vocab_size must be > 0");
        Require(HiddenSize > 0, "hidden_size must be > 0");
        Require(IntermediateSize > 0, "intermediate_size must be > 0");
        Require(NumHiddenLayers > 0, "num_hidden_layers must be > 0");
        Require(NumAttentionHeads > 0, "num_attention_heads must be > 0");
        Require(NumKeyValueHeads > 0 && NumAttentionHeads % NumKeyValueHeads == 0,
            "num_key_value_heads must be > 0 and divide num_attention_heads");
        Require(HeadDimOverride is not null || HiddenSize % NumAttentionHeads == 0, "num_attention_heads must divide hidden_size");
        Require(HeadDim % 2 == 0, "head dimension must be even (rotary embedding)");
        Require(MaxPositionEmbeddings > 0, "max_position_embeddings must be > 0");
    }

    public static DecoderConfig Load(string configFile) => FromJson(ConfigJson.Load(configFile));

    internal static DecoderConfig FromJson(ConfigJson c)
    {
        string type = c.String("model_type") ?? "llama";
        int heads = c.Int("num_attention_heads");
        int? eos = c.Root["eos_token_id"] switch
        {
            JsonArray a when a.Count > 0 => (int)a[0]!,
            JsonValue v when v.TryGetValue(out long l) => (int)l,
            _ => null,
        };
        var cfg = new DecoderConfig
        {
            ModelType = type,
            VocabSize = c.Int("vocab_size"),
            HiddenSize = c.Int("hidden_size"),
            IntermediateSize = c.Int("intermediate_size"),
            NumHiddenLayers = c.Int("num_hidden_layers"),
            NumAttentionHeads = heads,
            NumKeyValueHeads = c.Int("num_key_value_heads", heads),
            RmsNormEps = c.Double("rms_norm_eps", 1e-6),
            RopeTheta = c.Double("rope_theta", 10000),
            TieWordEmbeddings = c.Bool("tie_word_embeddings", false),
            MaxPositionEmbeddings = c.Int("max_position_embeddings", 2048),
            // Qwen2 always has q/k/v biases but its config does not say so.
            AttentionBias = c.Bool("attention_bias", type == "qwen2"),
            BosTokenId = c.Has("bos_token_id") && c.Root["bos_token_id"] is JsonValue ? c.Int("bos_token_id") : null,
            EosTokenId = eos,
            HeadDimOverride = c.Has("head_dim") && c.Root["head_dim"] is JsonValue ? c.Int("head_dim") : null,
            ChatFormat = c.String("moltbot_chat_format"),
        };
        cfg.Validate(c.File);
        return cfg;
    }

    public JsonObject ToJson()
    {
        var o = new JsonObject
        {
            ["architectures"] = new JsonArray(ModelType == "qwen2" ? "Qwen2ForCausalLM" : ModelType == "mistral" ? "MistralForCausalLM" : "LlamaForCausalLM"),
            ["model_type"] = ModelType,
            ["vocab_size"] = VocabSize,
            ["hidden_size"] = HiddenSize,
            ["intermediate_size"] = IntermediateSize,
            ["num_hidden_layers"] = NumHiddenLayers,
            ["num_attention_heads"] = NumAttentionHeads,
            ["num_key_value_heads"] = NumKeyValueHeads,
            ["rms_norm_eps"] = RmsNormEps,
            ["rope_theta"] = RopeTheta,
            ["tie_word_embeddings"] = TieWordEmbeddings,
            ["max_position_embeddings"] = MaxPositionEmbeddings,
            ["attention_bias"] = AttentionBias,
            ["hidden_act"] = "silu",
            ["torch_dtype"] = "float32",
        };
        if (BosTokenId is { } b) o["bos_token_id"] = b;
        if (EosTokenId is { } e) o["eos_token_id"] = e;
        if (HeadDimOverride is { } h) o["head_dim"] = h;
        if (ChatFormat is { } f) o["moltbot_chat_format"] = f;
        return o;
    }
}
