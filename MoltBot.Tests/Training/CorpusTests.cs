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
    public void Train_only_phrasings_leave_dev_and_test_unchanged_and_reach_train_only()
    {
        using var dir = new TempDir();
        CopyTree(Path.Combine(CorpusDir, "nlu"), dir.Path);
        string trainOnly = Path.Combine(dir.Path, "templates", NluCorpusBuilder.TrainOnlyFolder);
        Assert.True(Directory.GetFiles(trainOnly, "*.txt").Length > 0, "the committed corpus has train-only phrasings");

        var withExtra = NluCorpusBuilder.Build(dir.Path, new NluCorpusOptions());
        Directory.Delete(trainOnly, recursive: true);
        var without = NluCorpusBuilder.Build(dir.Path, new NluCorpusOptions());

        // The held-out split is exactly the one the main files alone give.
        Assert.Equal(without.Dev.Select(Key), withExtra.Dev.Select(Key));
        Assert.Equal(without.Test.Select(Key), withExtra.Test.Select(Key));
        Assert.True(withExtra.Train.Count > without.Train.Count);
        var baseTrain = without.Train.Select(Key).ToHashSet();
        Assert.Contains(withExtra.Train, e => !baseTrain.Contains(Key(e)));
    }

    [Fact]
    public void A_train_only_phrasing_that_matches_a_held_out_phrasing_is_dropped()
    {
        using var dir = new TempDir();
        CopyTree(Path.Combine(CorpusDir, "nlu"), dir.Path);
        string trainOnly = Path.Combine(dir.Path, "templates", NluCorpusBuilder.TrainOnlyFolder);
        Directory.Delete(trainOnly, recursive: true);
        Directory.CreateDirectory(trainOnly);
        var reference = NluCorpusBuilder.Build(dir.Path, new NluCorpusOptions());
        // A held-out sentence without slots is its own phrasing; re-type it with other case and punctuation.
        var heldOut = reference.Test.First(e => e.Lang == "en" && e.Entities.Count == 0 && e.Text.Length > 6);
        string retyped = heldOut.Text.ToUpperInvariant().TrimEnd('?', '!', '.') + " !!";
        // Under the same intent it would leak the held-out phrasing; under another one it would also contradict its label.
        string otherIntent = Intents.All.First(i => i != heldOut.Intent);
        File.WriteAllLines(Path.Combine(trainOnly, $"en.{heldOut.Intent}.txt"), ["# test", retyped]);
        File.WriteAllLines(Path.Combine(trainOnly, $"en.{otherIntent}.txt"), [retyped.ToLowerInvariant(), "a phrasing nobody else wrote, surely"]);

        var built = NluCorpusBuilder.Build(dir.Path, new NluCorpusOptions());

        Assert.Equal(NluCorpusBuilder.NormalisedPhrasing(heldOut.Text), NluCorpusBuilder.NormalisedPhrasing(retyped));
        Assert.DoesNotContain(built.Train, e => NluCorpusBuilder.NormalisedPhrasing(e.Text) == NluCorpusBuilder.NormalisedPhrasing(heldOut.Text));
        Assert.Contains(built.Train, e => e.Text == "a phrasing nobody else wrote, surely");
        Assert.Equal(reference.Test.Select(Key), built.Test.Select(Key));
        Assert.Equal(reference.TemplatesPerLangIntent[$"en.{heldOut.Intent}"], built.TemplatesPerLangIntent[$"en.{heldOut.Intent}"]);
        Assert.Equal(reference.TemplatesPerLangIntent[$"en.{otherIntent}"] + 1, built.TemplatesPerLangIntent[$"en.{otherIntent}"]);
    }

    private static string Key(NluExample e) =>
        $"{e.Lang}|{e.Intent}|{e.Text}|{string.Join(",", e.Entities.Select(s => $"{s.Type}:{s.Start}-{s.End}"))}";

    private static void CopyTree(string from, string to)
    {
        foreach (var d in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, d)));
        foreach (var f in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            if (Path.GetExtension(f) == ".txt") File.Copy(f, Path.Combine(to, Path.GetRelativePath(from, f)));
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
        var options = new DialogCorpusOptions { ComposedFillsPerTemplate = 0 };
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
