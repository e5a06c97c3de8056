using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;
using MoltBot.Inference.Models;

namespace MoltBot.Inference.Tokenization;

/// <summary>
/// A model folder's tokenizer through Microsoft.ML.Tokenizers. Which kind is chosen from the files present:
/// vocab.json + merges.txt → byte-level BPE (GPT-2/Qwen/SmolLM style); tokenizer.model → SentencePiece (Llama 2,
/// TinyLlama, Mistral); *.tiktoken → Tiktoken (Llama 3 style). Special tokens (e.g. &lt;|im_end|&gt;) come from
/// tokenizer_config.json "added_tokens_decoder" or tokenizer.json "added_tokens", and are matched as whole tokens.
/// </summary>
public sealed partial class TextTokenizer
{
    /// <summary>GPT-2 / Qwen2 pre-tokenization: contractions, letters, single digits, punctuation runs, spaces.</summary>
    private const string ByteLevelPattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>Source-generated: no Regex compilation (Reflection.Emit + JIT, tens of ms) per loaded model at start-up.</summary>
    [GeneratedRegex(ByteLevelPattern)]
    private static partial Regex ByteLevelRegex();

    private readonly Tokenizer inner;
    private readonly Dictionary<string, int> special;
    private readonly Dictionary<int, string> specialById;

    private TextTokenizer(Tokenizer inner, string kind, Dictionary<string, int> special)
    {
        this.inner = inner;
        Kind = kind;
        this.special = special;
        specialById = special.ToDictionary(kv => kv.Value, kv => kv.Key);
    }

    /// <summary>"bpe", "sentencepiece" or "tiktoken".</summary>
    public string Kind { get; }
    public IReadOnlyDictionary<string, int> SpecialTokens => special;

    public static TextTokenizer Load(string folder)
    {
        string vocab = Path.Combine(folder, "vocab.json"), merges = Path.Combine(folder, "merges.txt");
        string spm = Path.Combine(folder, "tokenizer.model");
        string? tiktoken = Directory.Exists(folder) ? Directory.GetFiles(folder, "*.tiktoken").FirstOrDefault() : null;
        var special = ReadSpecialTokens(folder);
        try
        {
            if (File.Exists(vocab) && File.Exists(merges))
            {
                var options = new BpeOptions(vocab, merges)
                {
                    ByteLevel = true,
                    PreTokenizer = new RegexPreTokenizer(ByteLevelRegex(), special.Count > 0 ? special : null),
                    SpecialTokens = special.Count > 0 ? special : null,
                };
                return new TextTokenizer(BpeTokenizer.Create(options), "bpe", special);
            }
            if (File.Exists(spm))
            {
                using var s = File.OpenRead(spm);
                return new TextTokenizer(LlamaTokenizer.Create(s, addBeginOfSentence: false, addEndOfSentence: false,
                    specialTokens: special.Count > 0 ? special : null), "sentencepiece", special);
            }
            if (tiktoken is not null)
            {
                var pre = new RegexPreTokenizer(ByteLevelRegex(), special.Count > 0 ? special : null);
                return new TextTokenizer(TiktokenTokenizer.Create(tiktoken, pre, null, special.Count > 0 ? special : null), "tiktoken", special);
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or FormatException or JsonException or IOException)
        {
            throw new ModelFormatException(Path.Combine(folder, "vocab.json"), null, $"tokenizer files cannot be read ({ex.Message})", ex);
        }
        throw new ModelFormatException(Path.Combine(folder, "vocab.json"), null,
            "no tokenizer: expected vocab.json + merges.txt, tokenizer.model or a *.tiktoken file");
    }

    public IReadOnlyList<int> Encode(string text) => inner.EncodeToIds(text);

    /// <summary>Token ids with their [Start, End) character offsets in <paramref name="text"/>.</summary>
    public IReadOnlyList<(int Id, int Start, int End)> EncodeWithOffsets(string text) =>
        inner.EncodeToTokens(text, out _).Select(t =>
        {
            int start = Math.Clamp(t.Offset.Start.GetOffset(text.Length), 0, text.Length);
            return (t.Id, start, Math.Clamp(t.Offset.End.GetOffset(text.Length), start, text.Length));
        }).ToList();

    public int CountTokens(string text) => inner.CountTokens(text);

    public string Decode(IEnumerable<int> ids) => inner.Decode(ids.Where(i => !specialById.ContainsKey(i))) ?? "";

    /// <summary>The id of a special token such as "&lt;|im_end|&gt;", or null.</summary>
    public int? SpecialId(string token) => special.TryGetValue(token, out int id) ? id : null;

    public bool IsSpecial(int id) => specialById.ContainsKey(id);

    /// <summary>HF stores added/special tokens in tokenizer_config.json (added_tokens_decoder) or tokenizer.json (added_tokens).</summary>
    private static Dictionary<string, int> ReadSpecialTokens(string folder)
    {
        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        string cfg = Path.Combine(folder, "tokenizer_config.json");
        if (File.Exists(cfg))
        {
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllText(cfg));
                if (doc.RootElement.TryGetProperty("added_tokens_decoder", out var atd) && atd.ValueKind == JsonValueKind.Object)
                    foreach (var p in atd.EnumerateObject())
                        if (int.TryParse(p.Name, out int id) && p.Value.TryGetProperty("content", out var c) && c.GetString() is { } s)
                            result[s] = id;
            }
            catch (JsonException ex)
            {
                throw new ModelFormatException(cfg, null, $"not valid JSON ({ex.Message})");
            }
        }
        string tj = Path.Combine(folder, "tokenizer.json");
        if (result.Count == 0 && File.Exists(tj))
        {
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllText(tj));
                if (doc.RootElement.TryGetProperty("added_tokens", out var at) && at.ValueKind == JsonValueKind.Array)
                    foreach (var e in at.EnumerateArray())
                        if (e.TryGetProperty("id", out var id) && e.TryGetProperty("content", out var c) && c.GetString() is { } s)
                            result[s] = id.GetInt32();
            }
            catch (JsonException ex)
            {
                throw new ModelFormatException(tj, null, $"not valid JSON ({ex.Message})");
            }
        }
        return result;
    }
}
