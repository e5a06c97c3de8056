using System.Text.Json.Nodes;
using MoltBot.Inference.Training.Corpus;

namespace MoltBot.Inference.Training.Nlu;

/// <summary>The unlabelled text `pretrain nlu` learns from, and where it came from.</summary>
public sealed record MlmTextSet(IReadOnlyList<string> Texts, IReadOnlyDictionary<string, int> PerFile, int Excluded, int Duplicates,
    IReadOnlyList<SkippedLine> Skipped);

/// <summary>
/// Builds the masked-LM pre-training text from training files only: NLU JSONL (each line's "text") and dialog JSONL
/// (every message's content). A file named like a held-out split (dev/test/heldout/valid/validation .jsonl) is refused,
/// and every sentence of the <c>exclude</c> files (NLU or dialog JSONL, e.g. the dev split) is removed from the text,
/// so no held-out sentence reaches the encoder before it is scored on it.
/// </summary>
public static class MlmText
{
    private static readonly HashSet<string> HeldOutNames = new(StringComparer.OrdinalIgnoreCase)
    {
        "dev.jsonl", "test.jsonl", "heldout.jsonl", "valid.jsonl", "validation.jsonl",
    };

    public static MlmTextSet Build(IReadOnlyList<string> files, IReadOnlyList<string> exclude, MalformedLinePolicy policy)
    {
        if (files.Count == 0) throw new ArgumentException("pretrain nlu: give at least one --text file");
        var excludedPaths = exclude.Select(Path.GetFullPath).ToHashSet(StringComparer.Ordinal);
        foreach (var f in files)
        {
            if (HeldOutNames.Contains(Path.GetFileName(f)) || excludedPaths.Contains(Path.GetFullPath(f)))
                throw new InvalidDataException($"pretrain nlu: '{f}' is a held-out split; pre-training text must come from training files only");
            if (!File.Exists(f)) throw new FileNotFoundException($"pretrain nlu: --text file '{f}' does not exist", f);
        }
        var skipped = new List<SkippedLine>();
        var banned = new HashSet<string>(StringComparer.Ordinal);
        foreach (var f in exclude)
        {
            if (!File.Exists(f)) throw new FileNotFoundException($"pretrain nlu: --exclude file '{f}' does not exist", f);
            foreach (var t in Read(f, policy, skipped)) banned.Add(Key(t));
        }
        var texts = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var perFile = new Dictionary<string, int>();
        int excluded = 0, duplicates = 0;
        foreach (var f in files)
        {
            int kept = 0;
            foreach (var t in Read(f, policy, skipped))
            {
                string key = Key(t);
                if (key.Length == 0) continue;
                if (banned.Contains(key)) { excluded++; continue; }
                if (!seen.Add(key)) { duplicates++; continue; }
                texts.Add(t.Trim());
                kept++;
            }
            perFile[f] = kept;
        }
        if (texts.Count == 0) throw new InvalidDataException("pretrain nlu: the --text files hold no text");
        return new MlmTextSet(texts, perFile, excluded, duplicates, skipped);
    }

    /// <summary>Sentences are matched after trimming and case folding.</summary>
    internal static string Key(string text) => text.Trim().ToLowerInvariant();

    /// <summary>NLU JSONL (lines with "text") or dialog JSONL (lines with "messages"), told apart by the first non-blank line.</summary>
    private static IEnumerable<string> Read(string file, MalformedLinePolicy policy, List<SkippedLine> skipped)
    {
        string? first = File.ReadLines(file).FirstOrDefault(l => !string.IsNullOrWhiteSpace(l));
        if (first is null) return [];
        JsonNode? node;
        try { node = JsonNode.Parse(first); }
        catch (System.Text.Json.JsonException e) { throw new InvalidDataException($"{file}: the first line is not JSON ({e.Message}); --text takes NLU or dialog JSONL"); }
        if (node is JsonObject o && o.ContainsKey("messages"))
        {
            var (dialogs, s) = DialogJsonl.Read(file, policy);
            skipped.AddRange(s);
            return dialogs.SelectMany(d => d.Messages).Select(m => m.Content);
        }
        if (node is JsonObject n && n.ContainsKey("text"))
        {
            var data = NluJsonlReader.Read(file, policy);
            skipped.AddRange(data.Skipped);
            return data.Examples.Select(e => e.Text);
        }
        throw new InvalidDataException($"{file}:1: neither an NLU line (\"text\") nor a dialog line (\"messages\")");
    }
}
