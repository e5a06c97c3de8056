using System.Text;
using System.Text.Json.Nodes;
using MoltBot.Inference.Models;
using TorchSharp;

namespace MoltBot.Tests.Inference;

/// <summary>Tiny random models and a byte-level BPE tokenizer written to temp folders, for the inference tests.</summary>
public static class TinyModels
{
    public static readonly string[] Intents = ["greet", "goodbye", "weather_query", "smalltalk"];

    public static DecoderConfig Decoder(int vocab = 300, int hidden = 32, int layers = 2, int heads = 4, int kvHeads = 2,
        bool bias = false, bool tied = false, int ff = 64) => new()
    {
        ModelType = bias ? "qwen2" : "llama",
        VocabSize = vocab,
        HiddenSize = hidden,
        IntermediateSize = ff,
        NumHiddenLayers = layers,
        NumAttentionHeads = heads,
        NumKeyValueHeads = kvHeads,
        RmsNormEps = 1e-5,
        RopeTheta = 10000,
        TieWordEmbeddings = tied,
        MaxPositionEmbeddings = 128,
        AttentionBias = bias,
        EosTokenId = 257,
        ChatFormat = "chatml",
    };

    public static NluEncoderConfig Nlu(int vocab = 300) => new()
    {
        VocabSize = vocab,
        HiddenSize = 32,
        IntermediateSize = 64,
        NumHiddenLayers = 2,
        NumAttentionHeads = 4,
        MaxPositionEmbeddings = 64,
        EmbeddingSize = 16,
        PadTokenId = 258,
        Intents = Intents,
        BioTags = NluEncoderConfig.BioTagsFor(["location", "datetime"]),
    };

    /// <summary>A new model with random weights drawn from a fixed seed (biases too, so they are exercised).</summary>
    public static DecoderLM RandomDecoder(DecoderConfig config, int seed = 1)
    {
        torch.manual_seed(seed);
        var m = new DecoderLM(config);
        Randomize(m, seed);
        return m;
    }

    public static NluEncoder RandomNlu(NluEncoderConfig config, int seed = 1)
    {
        torch.manual_seed(seed);
        var m = new NluEncoder(config);
        Randomize(m, seed);
        return m;
    }

    /// <summary>Every parameter from a private generator: tests run in parallel, the global seed is shared.</summary>
    private static void Randomize(torch.nn.Module m, int seed)
    {
        var gen = new torch.Generator((ulong)seed);
        using var ng = torch.no_grad();
        foreach (var (name, p) in m.named_parameters())
        {
            if (name.EndsWith("norm.weight") || name.EndsWith("layernorm.weight")) p.uniform_(0.8, 1.2, generator: gen);
            else if (name.EndsWith(".bias")) p.uniform_(-0.1, 0.1, generator: gen);
            else p.normal_(0, 0.2, generator: gen);
        }
    }

    /// <summary>
    /// GPT-2 byte-level BPE files: the 256 byte symbols, a few merges, and special tokens 256.. (&lt;|endoftext|&gt;,
    /// &lt;|im_end|&gt;, &lt;|pad|&gt;, &lt;|im_start|&gt;) declared in tokenizer_config.json.
    /// </summary>
    public static void WriteTokenizer(string folder)
    {
        Directory.CreateDirectory(folder);
        var b2u = ByteToUnicode();
        var vocab = new JsonObject();
        for (int b = 0; b < 256; b++) vocab[b2u[b].ToString()] = b;
        string[] specials = ["<|endoftext|>", "<|im_end|>", "<|pad|>", "<|im_start|>"];
        string sp = b2u[(byte)' '].ToString();
        string[] merges = [$"{sp} t", "h e", $"{sp}t he", "l l", "e ll", "h ell"];
        int next = 256 + specials.Length;
        foreach (var m in merges) vocab[m.Replace(" ", "")] = next++;
        File.WriteAllText(Path.Combine(folder, "vocab.json"), vocab.ToJsonString());
        File.WriteAllText(Path.Combine(folder, "merges.txt"), "#version: 0.2\n" + string.Join("\n", merges) + "\n");
        var added = new JsonObject();
        for (int i = 0; i < specials.Length; i++) added[(256 + i).ToString()] = new JsonObject { ["content"] = specials[i], ["special"] = true };
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), new JsonObject
        {
            ["added_tokens_decoder"] = added,
            ["chat_template"] = "{% for m in messages %}<|im_start|>{{m.role}}\n{{m.content}}<|im_end|>\n{% endfor %}",
        }.ToJsonString());
    }

    public static string TempDir(string name) => Directory.CreateTempSubdirectory("moltbot-inf-" + name).FullName;

    public static string WriteDecoderFolder(string folder, DecoderConfig config, int seed = 1, bool int8 = false, long maxShard = long.MaxValue)
    {
        WriteTokenizer(folder);
        using var m = RandomDecoder(config, seed);
        ModelFolder.SaveDecoder(folder, m, null, int8, maxShard);
        return folder;
    }

    public static string WriteNluFolder(string folder, NluEncoderConfig config, int seed = 1, bool int8 = false)
    {
        WriteTokenizer(folder);
        using var m = RandomNlu(config, seed);
        ModelFolder.SaveNlu(folder, m, null, int8);
        return folder;
    }

    /// <summary>GPT-2's reversible byte → printable char map.</summary>
    public static char[] ByteToUnicode()
    {
        var map = new char[256];
        var direct = new List<int>();
        for (int i = '!'; i <= '~'; i++) direct.Add(i);
        for (int i = '¡'; i <= '¬'; i++) direct.Add(i);
        for (int i = '®'; i <= 'ÿ'; i++) direct.Add(i);
        int n = 0;
        for (int b = 0; b < 256; b++) map[b] = direct.Contains(b) ? (char)b : (char)(256 + n++);
        return map;
    }
}

public static class TensorAssertExtensions
{
    /// <summary>Same shape and exactly the same values.</summary>
    public static bool Same(this torch.Tensor a, torch.Tensor b) => a.shape.SequenceEqual(b.shape) && a.equal(b).all().item<bool>();
}
