using MoltBot.Contracts.Inference;
using MoltBot.Inference.Training.Corpus;

namespace MoltBot.Tests.Training;

/// <summary>The committed corpus: size, taxonomy, split by phrasing, exact offsets, determinism.</summary>
public sealed class CorpusTests
{
    private static readonly string CorpusDir = Path.Combine(RepoRoot.Path, "models", "corpus");

    [Fact]
    public void Every_intent_has_at_least_40_distinct_phrasings_per_language()
    {
        var corpus = NluCorpusBuilder.Build(Path.Combine(CorpusDir, "nlu"), new NluCorpusOptions());
        foreach (var lang in new[] { "en", "zh" })
            foreach (var intent in Intents.All)
                Assert.True(corpus.TemplatesPerLangIntent[$"{lang}.{intent}"] >= 40, $"{lang}.{intent} has fewer than 40 phrasings");
        Assert.True(corpus.TemplatesPerLangIntent.Values.Sum() >= 1200);
    }

    [Fact]
    public void Committed_split_files_are_what_the_builder_produces_and_validate()
    {
        using var dir = new TempDir();
        var corpus = NluCorpusBuilder.Build(Path.Combine(CorpusDir, "nlu"), new NluCorpusOptions());
        NluCorpusBuilder.Write(corpus, dir.Path);
        foreach (var name in new[] { "train.jsonl", "dev.jsonl", "test.jsonl" })
        {
            Assert.Equal(File.ReadAllBytes(dir.File(name)), File.ReadAllBytes(Path.Combine(CorpusDir, "nlu", name)));
            var data = NluJsonlReader.Read(Path.Combine(CorpusDir, "nlu", name));
            Assert.Empty(data.Skipped);
            Assert.All(data.Examples, e => Assert.All(e.Entities, s => Assert.Equal(s.Value, TextOffsets.Slice(e.Text, s.Start, s.End))));
        }
    }

    [Fact]
    public void Test_phrasings_never_produced_a_training_sentence()
    {
        string templates = Path.Combine(CorpusDir, "nlu", "templates");
        var train = NluJsonlReader.Read(Path.Combine(CorpusDir, "nlu", "train.jsonl")).Examples;
        var test = NluJsonlReader.Read(Path.Combine(CorpusDir, "nlu", "test.jsonl")).Examples;
        // Recover each sentence's template by replacing its entity spans with slot markers.
        static string Skeleton(NluExample e)
        {
            string t = e.Text;
            foreach (var s in e.Entities.OrderByDescending(s => s.Start))
                t = t[..TextOffsets.ToUtf16(t, s.Start)] + "{" + s.Type + "}" + t[TextOffsets.ToUtf16(t, s.End)..];
            return e.Lang + "|" + t.TrimEnd('?', '!', '.', '？', '！', '。', '~').ToLowerInvariant();
        }
        var trainSkeletons = train.Select(Skeleton).ToHashSet();
        Assert.True(Directory.GetFiles(templates).Length == 30);
        Assert.DoesNotContain(test, e => trainSkeletons.Contains(Skeleton(e)));
        Assert.Contains(test, e => e.Lang == "zh");
        Assert.Equal(Intents.All.Count, test.Select(e => e.Intent).Distinct().Count());
    }

    [Fact]
    public void Dialog_corpus_alternates_roles_and_holds_out_unseen_slot_values()
    {
        var corpus = DialogCorpusBuilder.Build(Path.Combine(CorpusDir, "dialog"), Path.Combine(CorpusDir, "nlu", "slots"), new DialogCorpusOptions());
        Assert.True(corpus.Templates >= 120);
        Assert.Contains(corpus.Train, d => d.Lang == "zh");
        Assert.Contains(corpus.HeldOut, d => d.Lang == "zh");
        Assert.All(corpus.Train.Concat(corpus.HeldOut), d =>
        {
            for (int i = 0; i < d.Messages.Count; i++) Assert.Equal(i % 2 == 0 ? "user" : "assistant", d.Messages[i].Role);
        });
        var trainMessages = corpus.Train.SelectMany(d => d.Messages).Select(m => m.Content).ToHashSet();
        Assert.All(corpus.HeldOut, d => Assert.Contains(d.Messages, m => !trainMessages.Contains(m.Content)));
        var committed = DialogJsonl.Read(Path.Combine(CorpusDir, "dialog", "heldout.jsonl"));
        Assert.Equal(corpus.HeldOut.Count, committed.Dialogs.Count);
    }

    [Fact]
    public void More_dialog_training_fills_give_more_conversations_and_never_use_held_out_slot_values()
    {
        // `train corpus --dialog-train-fills N` feeds distillation more conversations; held-out values must stay unseen.
        var options = new DialogCorpusOptions();
        var normal = DialogCorpusBuilder.Build(Path.Combine(CorpusDir, "dialog"), Path.Combine(CorpusDir, "nlu", "slots"), options);
        var more = DialogCorpusBuilder.Build(Path.Combine(CorpusDir, "dialog"), Path.Combine(CorpusDir, "nlu", "slots"), options with { TrainFillsPerTemplate = 120 });
        Assert.True(more.Train.Count >= 2 * normal.Train.Count, $"{more.Train.Count} vs {normal.Train.Count} training conversations");
        foreach (var lang in NluJsonlReader.Languages)
        {
            var slots = SlotValues.Load(Path.Combine(CorpusDir, "nlu", "slots"), lang);
            var trainValues = slots.Partition("location", false, options.HeldOutValueFraction).ToHashSet(StringComparer.Ordinal);
            var heldOutCities = slots.Partition("location", true, options.HeldOutValueFraction).Where(c => !trainValues.Any(t => t.Contains(c, StringComparison.Ordinal))).ToList();
            Assert.NotEmpty(heldOutCities);
            var text = string.Join("\n", more.Train.Where(d => d.Lang == lang).SelectMany(d => d.Messages).Select(m => m.Content));
            Assert.All(heldOutCities, c => Assert.DoesNotContain(c, text, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Slot_template_offsets_are_code_points()
    {
        var t = new SlotTemplate("{location}现在几点？");
        var (text, entities) = t.Fill(_ => "北京");
        Assert.Equal("北京现在几点？", text);
        Assert.Equal(new EntitySpan("location", "北京", 0, 2), Assert.Single(entities));
        Assert.Throws<FormatException>(() => new SlotTemplate("hello {person}"));
    }
}
