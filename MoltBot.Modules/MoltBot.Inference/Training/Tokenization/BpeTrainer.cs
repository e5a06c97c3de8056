using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace MoltBot.Inference.Training.Tokenization;

public sealed record BpeTrainerOptions
{
    /// <summary>Total vocabulary: 256 byte symbols + merges + special tokens.</summary>
    public int VocabSize { get; init; } = 4096;
    /// <summary>Pairs seen fewer times than this are not merged (keeps rare noise out of the vocabulary).</summary>
    public int MinPairCount { get; init; } = 2;
    public IReadOnlyList<string> SpecialTokens { get; init; } = DefaultSpecialTokens;

    public const string EndOfText = "<|endoftext|>";
    public const string ImStart = "<|im_start|>";
    public const string ImEnd = "<|im_end|>";
    public const string Pad = "<|pad|>";
    public static readonly IReadOnlyList<string> DefaultSpecialTokens = [EndOfText, ImStart, ImEnd, Pad];
}

/// <summary>
/// Trains a byte-level BPE tokenizer (GPT-2 style files: vocab.json, merges.txt, tokenizer_config.json) that
/// Microsoft.ML.Tokenizers loads back. Text is pre-split like the runtime tokenizer, and additionally every CJK
/// character is its own word, so no token spans two Chinese characters: entity boundaries in Chinese text always
/// fall on token boundaries, which the NLU tagger needs.
/// </summary>
public static partial class BpeTrainer
{
    public static void Train(IEnumerable<string> texts, BpeTrainerOptions options, string folder)
    {
        int mergesWanted = options.VocabSize - 256 - options.SpecialTokens.Count;
        if (mergesWanted < 0) throw new ArgumentException($"vocab size {options.VocabSize} is smaller than 256 bytes + special tokens");

        // Word frequencies, each word as a list of byte-level symbols.
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var text in texts)
            foreach (var word in PreTokenize(text))
            {
                string w = ByteLevelAlphabet.Encode(Encoding.UTF8.GetBytes(word));
                counts[w] = counts.GetValueOrDefault(w) + 1;
            }
        var words = counts.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => (Symbols: kv.Key.Select(c => c.ToString()).ToList(), Count: kv.Value)).ToList();

        var merges = new List<(string A, string B)>();
        for (int m = 0; m < mergesWanted; m++)
        {
            var pairs = new Dictionary<(string, string), int>();
            foreach (var (symbols, count) in words)
                for (int i = 0; i + 1 < symbols.Count; i++)
                {
                    var key = (symbols[i], symbols[i + 1]);
                    pairs[key] = pairs.GetValueOrDefault(key) + count;
                }
            if (pairs.Count == 0) break;
            // Most frequent pair; ties broken by ordinal order so training is deterministic.
            var best = pairs.First();
            foreach (var p in pairs)
                if (p.Value > best.Value || (p.Value == best.Value && ComparePairs(p.Key, best.Key) < 0)) best = p;
            if (best.Value < options.MinPairCount) break;
            merges.Add(best.Key);
            string joined = best.Key.Item1 + best.Key.Item2;
            foreach (var (symbols, _) in words)
                for (int i = 0; i + 1 < symbols.Count; i++)
                    if (symbols[i] == best.Key.Item1 && symbols[i + 1] == best.Key.Item2)
                    {
                        symbols[i] = joined;
                        symbols.RemoveAt(i + 1);
                    }
        }
        Write(folder, merges, options.SpecialTokens);
    }

    private static int ComparePairs((string, string) x, (string, string) y)
    {
        int c = string.CompareOrdinal(x.Item1, y.Item1);
        return c != 0 ? c : string.CompareOrdinal(x.Item2, y.Item2);
    }

    /// <summary>Runtime-compatible pre-split, then CJK runs broken into single characters.</summary>
    public static IEnumerable<string> PreTokenize(string text)
    {
        foreach (Match m in ByteLevelSplit().Matches(text))
        {
            string piece = m.Value;
            int start = 0;
            for (int i = 0; i < piece.Length; i++)
            {
                if (!IsCjk(piece[i])) continue;
                if (i > start) yield return piece[start..i];
                yield return piece[i].ToString();
                start = i + 1;
            }
            if (start < piece.Length) yield return piece[start..];
        }
    }

    public static bool IsCjk(char c) =>
        c is (>= '\u3400' and <= '\u9FFF') or (>= '\uF900' and <= '\uFAFF') or (>= '\u3000' and <= '\u303F') or (>= '\uFF00' and <= '\uFFEF');

    private static void Write(string folder, List<(string A, string B)> merges, IReadOnlyList<string> specials)
    {
        Directory.CreateDirectory(folder);
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int b = 0; b < 256; b++) vocab[ByteLevelAlphabet.Of((byte)b).ToString()] = b;
        foreach (var (a, b) in merges) vocab.TryAdd(a + b, vocab.Count);
        var added = new JsonObject();
        foreach (var s in specials)
        {
            int id = vocab.Count;
            vocab[s] = id;
            added[id.ToString()] = new JsonObject { ["content"] = s, ["special"] = true };
        }
        var json = new JsonSerializerOptions { WriteIndented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        File.WriteAllText(Path.Combine(folder, "vocab.json"), JsonSerializer.Serialize(vocab, json));
        File.WriteAllLines(Path.Combine(folder, "merges.txt"), ["#version: 0.2", .. merges.Select(m => $"{m.A} {m.B}")]);
        var config = new JsonObject
        {
            ["tokenizer_class"] = "GPT2Tokenizer",
            ["model_max_length"] = 512,
            ["eos_token"] = BpeTrainerOptions.EndOfText,
            ["pad_token"] = specials.Contains(BpeTrainerOptions.Pad) ? BpeTrainerOptions.Pad : BpeTrainerOptions.EndOfText,
            ["added_tokens_decoder"] = added,
            // ChatML, the format our own decoders are trained on (the runtime detects it from these markers).
            ["chat_template"] = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}",
        };
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = json.Encoder }));
    }

    /// <summary>Same split as the runtime byte-level BPE (GPT-2 / Qwen2 pattern).</summary>
    [GeneratedRegex(@"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")]
    private static partial Regex ByteLevelSplit();
}
