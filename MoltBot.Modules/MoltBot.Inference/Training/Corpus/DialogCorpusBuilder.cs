using System.Text.RegularExpressions;
using MoltBot.Contracts.Inference;

namespace MoltBot.Inference.Training.Corpus;

public sealed record DialogCorpusOptions
{
    public int Seed { get; init; } = 20261123;
    /// <summary>
    /// Conversations generated from one slotted template for training with the NLU slot values, and for the
    /// held-out set. Held-out conversations are drawn right after the training ones from the same random sequence,
    /// so changing this also changes heldout.jsonl; add training data with <see cref="ComposedFillsPerTemplate"/>.
    /// </summary>
    public int TrainFillsPerTemplate { get; init; } = 24;
    /// <summary>
    /// Extra training conversations per slotted template filled from the composed dialog slot pools
    /// (dialog/slots/&lt;lang&gt;/*.txt, <see cref="DialogSlotPools"/>); drawn from their own random sequence, so
    /// heldout.jsonl does not depend on it. 0 = the NLU slot values only.
    /// </summary>
    public int ComposedFillsPerTemplate { get; init; } = 120;
    public int HeldOutFillsPerTemplate { get; init; } = 2;
    /// <summary>Share of every slot's values reserved for held-out conversations (never seen in training).</summary>
    public double HeldOutValueFraction { get; init; } = 0.2;
}

public sealed record DialogCorpus(IReadOnlyList<Dialog> Train, IReadOnlyList<Dialog> HeldOut, int Templates);

/// <summary>
/// Expands the dialog templates (dialog/&lt;lang&gt;.dialogs.txt: blocks of "U:"/"A:" lines separated by "===") with
/// slot values. Held-out conversations use slot values that no training conversation contains, so a model that
/// only memorised its training replies cannot answer them correctly.
/// </summary>
public static partial class DialogCorpusBuilder
{
    public static DialogCorpus Build(string dialogDir, string slotsDir, DialogCorpusOptions options)
    {
        var train = new List<Dialog>();
        var heldOut = new List<Dialog>();
        int templates = 0;
        foreach (var lang in NluJsonlReader.Languages)
        {
            string file = Path.Combine(dialogDir, $"{lang}.dialogs.txt");
            var slots = SlotValues.Load(slotsDir, lang);
            var rng = new Random(options.Seed ^ StableHash.Of(lang));
            var composedRng = new Random(options.Seed ^ StableHash.Of(lang + "/composed"));
            var pools = options.ComposedFillsPerTemplate > 0
                ? DialogSlotPools.Load(Path.Combine(dialogDir, "slots"), lang, slots, options.HeldOutValueFraction)
                : null;
            foreach (var block in ParseBlocks(file))
            {
                templates++;
                var slotNames = block.SelectMany(m => SlotMarker().Matches(m.Content).Select(x => x.Groups[1].Value)).Distinct().ToList();
                if (slotNames.Count == 0)
                {
                    train.Add(new Dialog(lang, block));
                    continue;
                }
                var trainSeen = new HashSet<string>(StringComparer.Ordinal);
                foreach (var (target, fills, held) in new[] { (train, options.TrainFillsPerTemplate, false), (heldOut, options.HeldOutFillsPerTemplate, true) })
                {
                    var seen = held ? new HashSet<string>(StringComparer.Ordinal) : trainSeen;
                    for (int attempt = 0; attempt < fills * 4 && seen.Count < fills; attempt++)
                    {
                        var values = slotNames.ToDictionary(s => s, s =>
                        {
                            var pool = slots.Partition(s, held, options.HeldOutValueFraction);
                            return pool[rng.Next(pool.Count)];
                        });
                        AddFilled(target, seen, lang, block, values);
                    }
                }
                if (pools is null) continue;
                int before = trainSeen.Count, want = options.ComposedFillsPerTemplate;
                for (int attempt = 0; attempt < want * 4 && trainSeen.Count - before < want; attempt++)
                    AddFilled(train, trainSeen, lang, block, slotNames.ToDictionary(s => s, s => pools.Sample(s, composedRng)));
            }
        }
        return new DialogCorpus(train, heldOut, templates);
    }

    private static void AddFilled(List<Dialog> target, HashSet<string> seen, string lang, List<ChatMessage> block, Dictionary<string, string> values)
    {
        var filled = block.Select(m => m with { Content = SlotMarker().Replace(m.Content, x => values[x.Groups[1].Value]) }).ToList();
        if (seen.Add(string.Join("\n", filled.Select(m => m.Content)))) target.Add(new Dialog(lang, filled));
    }

    /// <summary>Parses a template file; throws with file and line when a block is not user/assistant alternating.</summary>
    public static IEnumerable<List<ChatMessage>> ParseBlocks(string file)
    {
        if (!File.Exists(file)) throw new FileNotFoundException($"dialog template file '{file}' is missing", file);
        var block = new List<ChatMessage>();
        int lineNo = 0, blockStart = 1;
        foreach (var raw in File.ReadLines(file).Append("==="))
        {
            lineNo++;
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            if (line == "===")
            {
                if (block.Count > 0)
                {
                    if (block[0].Role != "user" || block[^1].Role != "assistant")
                        throw new NluDataException(file, blockStart, "a dialog must start with U: and end with A:");
                    yield return block;
                }
                block = [];
                blockStart = lineNo + 1;
                continue;
            }
            string role = line.StartsWith("U:", StringComparison.Ordinal) ? "user"
                : line.StartsWith("A:", StringComparison.Ordinal) ? "assistant"
                : throw new NluDataException(file, lineNo, "a dialog line must start with \"U:\" or \"A:\"");
            if (block.Count > 0 && block[^1].Role == role) throw new NluDataException(file, lineNo, "user and assistant turns must alternate");
            block.Add(new ChatMessage(role, line[2..].Trim()));
        }
    }

    [GeneratedRegex(@"\{([a-z_]+)\}")]
    private static partial Regex SlotMarker();
}
