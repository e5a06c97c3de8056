using MoltBot.Inference.Training.Corpus;

namespace MoltBot.Tests.Training;

/// <summary>
/// The composed dialog slot pools (models/corpus/dialog/slots): many distinct values so the reply model must copy
/// them, none of them revealing a held-out value, and a held-out file that does not depend on them.
/// </summary>
public sealed class DialogSlotPoolTests
{
    private static readonly string CorpusDir = Path.Combine(RepoRoot.Path, "models", "corpus");
    private static readonly string DialogDir = Path.Combine(CorpusDir, "dialog");
    private static readonly string NluSlotsDir = Path.Combine(CorpusDir, "nlu", "slots");
    private static readonly DialogCorpusOptions Defaults = new();

    private static DialogSlotPools Pools(string lang) =>
        DialogSlotPools.Load(Path.Combine(DialogDir, "slots"), lang, SlotValues.Load(NluSlotsDir, lang), Defaults.HeldOutValueFraction);

    [Theory]
    [InlineData("en", "location", 400)]
    [InlineData("en", "datetime", 1000)]
    [InlineData("en", "duration", 300)]
    [InlineData("en", "reminder_text", 3000)]
    [InlineData("en", "fact", 3000)]
    [InlineData("zh", "location", 300)]
    [InlineData("zh", "datetime", 1000)]
    [InlineData("zh", "duration", 250)]
    [InlineData("zh", "reminder_text", 2000)]
    [InlineData("zh", "fact", 3000)]
    public void Composed_pools_offer_many_distinct_training_values(string lang, string slot, int atLeast)
    {
        var pools = Pools(lang);
        var values = pools.AllTrainingValues(slot);
        Assert.True(values.Count >= atLeast, $"{lang} {{{slot}}}: {values.Count} distinct training values, expected >= {atLeast}");
        Assert.Equal(values.Count, values.Distinct(StringComparer.Ordinal).Count());
        Assert.All(values, v => Assert.Equal(v.Trim(), v));
        if (lang == "zh") Assert.All(values.Where(v => v.Any(c => c > 0x2e80)), v => Assert.DoesNotContain(" ", v));
    }

    [Fact]
    public void No_training_value_equals_or_contains_a_held_out_value()
    {
        foreach (var lang in NluJsonlReader.Languages)
        {
            var pools = Pools(lang);
            foreach (var slot in pools.ComposedSlots)
            {
                var heldOut = pools.HeldOut(slot);
                Assert.NotEmpty(heldOut);
                var training = pools.AllTrainingValues(slot);
                Assert.All(training, v => Assert.DoesNotContain(heldOut, h => v.Contains(h, StringComparison.OrdinalIgnoreCase)));
                // Sampling goes through the grammar rather than the enumerated list: it must obey the same rule.
                var rng = new Random(5);
                var set = training.ToHashSet(StringComparer.Ordinal);
                for (int i = 0; i < 2000; i++) Assert.Contains(pools.Sample(slot, rng), set);
            }
        }
    }

    [Fact]
    public void Training_conversations_never_mention_a_held_out_slot_value()
    {
        var corpus = DialogCorpusBuilder.Build(DialogDir, NluSlotsDir, Defaults);
        foreach (var lang in NluJsonlReader.Languages)
        {
            var pools = Pools(lang);
            var text = string.Join("\n", corpus.Train.Where(d => d.Lang == lang).SelectMany(d => d.Messages).Select(m => m.Content));
            foreach (var slot in new[] { "location", "reminder_text", "fact" })
                Assert.All(pools.HeldOut(slot), h => Assert.DoesNotContain(h, text, StringComparison.OrdinalIgnoreCase));
        }
    }

    [Fact]
    public void Held_out_file_is_byte_identical_with_or_without_composed_fills_and_train_file_is_the_builder_output()
    {
        using var dir = new TempDir();
        var composed = DialogCorpusBuilder.Build(DialogDir, NluSlotsDir, Defaults);
        var nluOnly = DialogCorpusBuilder.Build(DialogDir, NluSlotsDir, Defaults with { ComposedFillsPerTemplate = 0 });
        DialogJsonl.Write(dir.File("heldout.jsonl"), composed.HeldOut);
        DialogJsonl.Write(dir.File("heldout-nlu-only.jsonl"), nluOnly.HeldOut);
        DialogJsonl.Write(dir.File("train.jsonl"), composed.Train);
        byte[] committed = File.ReadAllBytes(Path.Combine(DialogDir, "heldout.jsonl"));
        Assert.Equal(committed, File.ReadAllBytes(dir.File("heldout.jsonl")));
        Assert.Equal(committed, File.ReadAllBytes(dir.File("heldout-nlu-only.jsonl")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(DialogDir, "train.jsonl")), File.ReadAllBytes(dir.File("train.jsonl")));
        // The NLU-value conversations are all still there; the composed ones come on top.
        var trainSet = composed.Train.Select(d => string.Join("\n", d.Messages.Select(m => m.Content))).ToHashSet(StringComparer.Ordinal);
        Assert.All(nluOnly.Train, d => Assert.Contains(string.Join("\n", d.Messages.Select(m => m.Content)), trainSet));
        Assert.True(composed.Train.Count >= 4 * nluOnly.Train.Count, $"{composed.Train.Count} vs {nluOnly.Train.Count} training conversations");
    }

    [Fact]
    public void Grammar_expands_alternatives_optional_parts_and_references()
    {
        using var dir = new TempDir();
        string file = dir.File("reminder_text.txt");
        File.WriteAllLines(file, ["# comment", "value = call <who> <when> | buy milk", "who = mom | the bank", "when = ~ | tonight", "when = , please"]);
        var grammar = SlotGrammar.Load(file);
        var all = grammar.Enumerate();
        Assert.Equal(
            new[] { "call mom", "call mom tonight", "call mom, please", "call the bank", "call the bank tonight", "call the bank, please", "buy milk" }.Order(),
            all.Order());
        var rng = new Random(1);
        for (int i = 0; i < 200; i++) Assert.Contains(grammar.Sample(rng), all);
    }

    [Fact]
    public void Grammar_errors_name_the_file_and_line_or_the_missing_rule()
    {
        using var dir = new TempDir();
        string bad = dir.File("bad.txt");
        File.WriteAllLines(bad, ["value = a | b", "this line has no rule"]);
        var ex = Assert.Throws<NluDataException>(() => SlotGrammar.Load(bad));
        Assert.Equal(2, ex.Line);
        Assert.Contains("bad.txt", ex.Message);

        string empty = dir.File("empty.txt");
        File.WriteAllLines(empty, ["value = a || b"]);
        Assert.Equal(1, Assert.Throws<NluDataException>(() => SlotGrammar.Load(empty)).Line);

        string undefined = dir.File("undefined.txt");
        File.WriteAllLines(undefined, ["value = call <person>"]);
        Assert.Contains("<person>", Assert.Throws<InvalidDataException>(() => SlotGrammar.Load(undefined)).Message);

        string noStart = dir.File("nostart.txt");
        File.WriteAllLines(noStart, ["person = mom"]);
        Assert.Contains("value", Assert.Throws<InvalidDataException>(() => SlotGrammar.Load(noStart)).Message);
    }
}
