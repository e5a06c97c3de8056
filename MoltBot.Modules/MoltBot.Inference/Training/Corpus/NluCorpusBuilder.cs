using MoltBot.Contracts.Inference;

namespace MoltBot.Inference.Training.Corpus;

public sealed record NluCorpusOptions
{
    public int Seed { get; init; } = 20261123;
    /// <summary>Share of each (language, intent)'s phrasings held out for dev and for test.</summary>
    public double DevFraction { get; init; } = 0.1;
    public double TestFraction { get; init; } = 0.2;
    /// <summary>Sentences generated from one slotted phrasing in train, and in dev/test.</summary>
    public int TrainFillsPerTemplate { get; init; } = 8;
    public int EvalFillsPerTemplate { get; init; } = 3;
}

public sealed record NluCorpus(IReadOnlyList<NluExample> Train, IReadOnlyList<NluExample> Dev, IReadOnlyList<NluExample> Test,
    IReadOnlyDictionary<string, int> TemplatesPerLangIntent);

/// <summary>
/// Expands the phrasing templates (templates/&lt;lang&gt;.&lt;intent&gt;.txt) with slot values into train/dev/test.
/// The split is made over phrasings, before expansion, so no template that produced a test sentence produced a
/// training sentence. Phrasings in templates/train-only/&lt;lang&gt;.&lt;intent&gt;.txt were written after the split was
/// frozen: they go to train only and leave the dev/test phrasings exactly where they were (adding them to the main
/// files would reshuffle the split); one that matches any main phrasing after normalisation is dropped, so a held-out
/// phrasing can never reach train this way. Everything is seeded: the same inputs give byte-identical files.
/// </summary>
public static class NluCorpusBuilder
{
    public static NluCorpus Build(string nluDir, NluCorpusOptions options)
    {
        string templatesDir = Path.Combine(nluDir, "templates"), slotsDir = Path.Combine(nluDir, "slots");
        var train = new List<NluExample>();
        var dev = new List<NluExample>();
        var test = new List<NluExample>();
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var lang in NluJsonlReader.Languages)
        {
            var slots = SlotValues.Load(slotsDir, lang);
            foreach (var intent in Intents.All)
            {
                string file = Path.Combine(templatesDir, $"{lang}.{intent}.txt");
                if (!File.Exists(file)) throw new FileNotFoundException($"template file '{file}' is missing", file);
                var templates = ReadTemplateLines(file).Select(t => new SlotTemplate(t)).ToList();
                counts[$"{lang}.{intent}"] = templates.Count;
                var rng = new Random(options.Seed ^ StableHash.Of($"{lang}/{intent}"));
                var order = templates.OrderBy(_ => rng.Next()).ToList();
                int nTest = (int)Math.Round(templates.Count * options.TestFraction), nDev = (int)Math.Round(templates.Count * options.DevFraction);
                for (int i = 0; i < order.Count; i++)
                {
                    var (target, fills) = i < nTest ? (test, options.EvalFillsPerTemplate)
                        : i < nTest + nDev ? (dev, options.EvalFillsPerTemplate)
                        : (train, options.TrainFillsPerTemplate);
                    target.AddRange(Expand(order[i], lang, intent, slots, fills, rng));
                }
            }
            // After the main split (same rng sequence as before, so dev/test stay byte-identical). A train-only phrasing
            // that matches a main phrasing of any intent is dropped: under the same intent it would be a duplicate (or a
            // held-out phrasing leaking into train), under another one a contradicting label.
            var main = Intents.All.SelectMany(i => ReadTemplateLines(Path.Combine(templatesDir, $"{lang}.{i}.txt")))
                .Select(NormalisedPhrasing).ToHashSet(StringComparer.Ordinal);
            foreach (var intent in Intents.All)
            {
                string file = Path.Combine(templatesDir, TrainOnlyFolder, $"{lang}.{intent}.txt");
                if (!File.Exists(file)) continue;
                var extra = ReadTemplateLines(file).Where(t => !main.Contains(NormalisedPhrasing(t))).Select(t => new SlotTemplate(t)).ToList();
                counts[$"{lang}.{intent}"] += extra.Count;
                var rng = new Random(options.Seed ^ StableHash.Of($"{lang}/{intent}/train-only"));
                foreach (var template in extra) train.AddRange(Expand(template, lang, intent, slots, options.TrainFillsPerTemplate, rng));
            }
        }
        var shuffle = new Random(options.Seed);
        return new NluCorpus(train.OrderBy(_ => shuffle.Next()).ToList(), dev, test, counts);
    }

    /// <summary>Folder under templates/ whose phrasings only ever produce training sentences.</summary>
    public const string TrainOnlyFolder = "train-only";

    private static List<string> ReadTemplateLines(string file) =>
        File.ReadAllLines(file).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>
    /// A phrasing's identity for leak checks: lower case, letters/digits/slot markers only, single spaces (so "Help me!"
    /// and "help me" are the same phrasing).
    /// </summary>
    public static string NormalisedPhrasing(string template)
    {
        var sb = new System.Text.StringBuilder(template.Length);
        bool space = false;
        foreach (char c in template.ToLowerInvariant())
        {
            if (char.IsLetterOrDigit(c) || c is '{' or '}' or '_') { if (space && sb.Length > 0) sb.Append(' '); sb.Append(c); space = false; }
            else space = true;
        }
        return sb.ToString();
    }

    public static void Write(NluCorpus corpus, string outDir)
    {
        NluJsonlReader.Write(Path.Combine(outDir, "train.jsonl"), corpus.Train);
        NluJsonlReader.Write(Path.Combine(outDir, "dev.jsonl"), corpus.Dev);
        NluJsonlReader.Write(Path.Combine(outDir, "test.jsonl"), corpus.Test);
    }

    private static IEnumerable<NluExample> Expand(SlotTemplate template, string lang, string intent, SlotValues slots, int fills, Random rng)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        if (!template.HasSlots)
        {
            // No slots: the phrasing plus the surface variants people actually type (case, trailing punctuation).
            foreach (var variant in SurfaceVariants(template.Text, lang).Take(Math.Max(1, fills / 2)))
                if (seen.Add(variant)) yield return new NluExample(variant, lang, intent, []);
            yield break;
        }
        for (int attempt = 0; attempt < fills * 4 && seen.Count < fills; attempt++)
        {
            var (text, entities) = template.Fill(slot => slots[slot][rng.Next(slots[slot].Count)]);
            if (seen.Add(text)) yield return new NluExample(text, lang, intent, entities);
        }
    }

    private static IEnumerable<string> SurfaceVariants(string text, string lang)
    {
        yield return text;
        string bare = text.TrimEnd('?', '!', '.', '？', '！', '。');
        if (lang == "en")
        {
            string capital = char.ToUpperInvariant(text[0]) + text[1..];
            yield return capital;
            yield return bare;
            yield return bare + (text.EndsWith('?') ? "?" : "!");
            yield return char.ToUpperInvariant(bare[0]) + bare[1..] + ".";
        }
        else
        {
            yield return bare;
            yield return bare + (text.EndsWith('？') ? "？" : "！");
            yield return bare + "。";
            yield return bare + "~";
        }
    }
}
