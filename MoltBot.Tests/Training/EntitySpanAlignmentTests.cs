using MoltBot.Contracts.Inference;
using MoltBot.Inference.Engines;
using MoltBot.Inference.Tokenization;
using MoltBot.Inference.Training.Corpus;
using MoltBot.Inference.Training.Nlu;

namespace MoltBot.Tests.Training;

/// <summary>
/// Gold entity spans put on tokens as BIO tags (training side) must come back as exactly the same spans from both
/// decoders (evaluation side in code points, serving side in UTF-16), with the bundled byte-level BPE tokenizer.
/// </summary>
public sealed class EntitySpanAlignmentTests
{
    private static readonly string Folder = Path.Combine(RepoRoot.Path, "models", "teacher-nlu");

    public static TheoryData<string, string, string> TrickySpans() => new()
    {
        { "remind me in 10 minutes to stretch", "duration", "10 minutes" },
        { "set a timer for 125 seconds", "duration", "125 seconds" },
        { "what's the weather in São Paulo?", "location", "São Paulo" },
        { "remind me at 3:30pm, to call mom.", "datetime", "3:30pm" },
        { "remember that my locker code is 4711!", "fact", "my locker code is 4711" },
        { "10分钟后提醒我喝水", "duration", "10分钟" },
        { "记住：我姐姐的生日是3月3号", "fact", "我姐姐的生日是3月3号" },
        { "北京明天会下雨吗？", "location", "北京" },
        { "提醒我明天早上8点去开会。", "datetime", "明天早上8点" },
        { "weather in 🌧️ Zürich tomorrow", "location", "Zürich" },
    };

    /// <summary>The bundled tokenizer's tokens of <paramref name="text"/> and the gold BIO tags of the one entity in it.</summary>
    private static (TextTokenizer Tokenizer, MoltBot.Inference.Models.NluEncoderConfig Config, EntitySpan Gold, int Utf16Start, int[] Ids, TokenSpan[] Spans, int[] Tags)
        Tagged(string text, string type, string value)
    {
        var tokenizer = TextTokenizer.Load(Folder);
        var config = MoltBot.Inference.Models.ModelFolder.NluConfigOf(Folder); // an ensemble teacher: its members' shared labels
        int utf16 = text.IndexOf(value, StringComparison.Ordinal);
        int cpStart = TextOffsets.ToCodePoint(text, utf16);
        var gold = new EntitySpan(type, value, cpStart, cpStart + TextOffsets.CodePointLength(value));
        var ids = tokenizer.Encode(text).ToArray();
        var spans = TokenAligner.Load(Folder).Align(text, ids);
        return (tokenizer, config, gold, utf16, ids, spans, BioCodec.Encode(spans, [gold], config.BioTags));
    }

    [Theory]
    [MemberData(nameof(TrickySpans))]
    public void Gold_tags_decode_back_to_the_exact_span(string text, string type, string value)
    {
        var (tokenizer, config, gold, utf16, ids, spans, tags) = Tagged(text, type, value);


        Assert.Equal([gold], BioCodec.Decode(text, spans, tags, config.BioTags));

        var served = tokenizer.EncodeWithOffsets(text);
        Assert.Equal(ids, served.Select(s => s.Id));
        var decoded = BioDecoder.Decode(text, served, tags.Select(t => (long)t).ToArray(), config.BioTags);
        Assert.Equal([new EntitySpan(type, value, utf16, utf16 + value.Length)], decoded);
    }

    [Theory]
    [MemberData(nameof(TrickySpans))]
    public void A_B_or_O_predicted_on_a_piece_inside_a_word_does_not_cut_the_entity(string text, string type, string value)
    {
        var (tokenizer, config, gold, utf16, ids, spans, tags) = Tagged(text, type, value);
        int cpStart = gold.Start, cpEnd = gold.End;
        var runes = text.EnumerateRunes().ToArray();
        int b = config.BioTags.ToList().IndexOf("B-" + type), o = config.BioTags.ToList().IndexOf("O");
        // Pieces that continue a word inside the entity ("0" of "10", "aulo" of "Paulo", a CJK character's last byte).
        var pieces = Enumerable.Range(1, spans.Length - 1).Where(t => spans[t].Start >= cpStart && spans[t].End <= cpEnd
            && (spans[t].Start < spans[t - 1].End || (spans[t].Start == spans[t - 1].End && spans[t].ContentStart == spans[t].Start
                && WordTagSmoothing.Joins(runes[spans[t].Start - 1], runes[spans[t].Start])))).ToList();
        foreach (int wrong in new[] { b, o })
        {
            var predicted = tags.ToArray();
            foreach (int t in pieces) predicted[t] = wrong;
            Assert.Equal([gold], BioCodec.Decode(text, spans, predicted, config.BioTags));
            var served = tokenizer.EncodeWithOffsets(text);
            Assert.Equal([new EntitySpan(type, value, utf16, utf16 + value.Length)],
                BioDecoder.Decode(text, served, predicted.Select(t => (long)t).ToArray(), config.BioTags));
        }
    }

    [Fact]
    public void Ten_minutes_tagged_B_on_both_digits_is_one_duration_in_English_and_Chinese()
    {
        string[] tags = ["O", "B-duration", "I-duration"];
        // "in 10 minutes": " in", " ", "1", "0", " minutes"; the model said B on "1" and again B on "0".
        (int, int, int)[] en = [(0, 0, 2), (0, 2, 3), (0, 3, 4), (0, 4, 5), (0, 5, 13)];
        Assert.Equal([new EntitySpan("duration", "10 minutes", 3, 13)], BioDecoder.Decode("in 10 minutes", en, [0, 0, 1, 1, 2], tags));
        // "10分钟后": "1", "0", "分钟", "后".
        (int, int, int)[] zh = [(0, 0, 1), (0, 1, 2), (0, 2, 4), (0, 4, 5)];
        Assert.Equal([new EntitySpan("duration", "10分钟", 0, 4)], BioDecoder.Decode("10分钟后", zh, [1, 1, 2, 0], tags));
        // A CJK character next to a digit is a word boundary: another type on "分钟" starts a new entity there.
        string[] two = ["O", "B-duration", "I-duration", "B-datetime"];
        Assert.Equal([new EntitySpan("duration", "10", 0, 2), new EntitySpan("datetime", "分钟", 2, 4)], BioDecoder.Decode("10分钟后", zh, [1, 2, 3, 0], two));
        // Scattered B- on digits still make one number; the "!" after it (tagged O) stays outside.
        (int, int, int)[] code = [(0, 0, 2), (0, 2, 3), (0, 3, 4), (0, 4, 5), (0, 5, 6), (0, 6, 7), (0, 7, 8)];
        Assert.Equal([new EntitySpan("duration", "4711", 3, 7)], BioDecoder.Decode("is 4711!", code, [0, 0, 1, 1, 2, 1, 0], tags));
    }

    [Fact]
    public void B_on_every_word_of_a_multi_word_entity_gives_one_entity_as_same_type_entities_never_touch()
    {
        string[] tags = ["O", "B-location", "I-location", "B-datetime", "I-datetime"];
        // "is it windy in New York?": "is", " it", " windy", " in", " New", " York", "?"
        (int, int, int)[] en = [(0, 0, 2), (0, 2, 5), (0, 5, 11), (0, 11, 14), (0, 14, 18), (0, 18, 23), (0, 23, 24)];
        Assert.Equal([new EntitySpan("location", "New York", 15, 23)], BioDecoder.Decode("is it windy in New York?", en, [0, 0, 0, 0, 1, 1, 0], tags));
        // "伦敦明天": B-location on each character, then a datetime.
        (int, int, int)[] zh = [(0, 0, 1), (0, 1, 2), (0, 2, 3), (0, 3, 4)];
        Assert.Equal([new EntitySpan("location", "伦敦", 0, 2), new EntitySpan("datetime", "明天", 2, 4)], BioDecoder.Decode("伦敦明天", zh, [1, 1, 3, 4], tags));
        // An O in between still separates two entities.
        Assert.Equal(2, BioDecoder.Decode("is it windy in New York?", en, [0, 1, 0, 0, 1, 1, 0], tags).Count);
        // Same on the evaluation side (code-point spans).
        TokenSpan[] spans = [new(0, 0, 1), new(1, 1, 2), new(2, 2, 3), new(3, 3, 4)];
        Assert.Equal([new EntitySpan("location", "伦敦", 0, 2), new EntitySpan("datetime", "明天", 2, 4)], BioCodec.Decode("伦敦明天", spans, [1, 1, 3, 4], tags));
    }

    [Fact]
    public void Token_dropout_restarts_an_entity_with_B_when_its_first_token_was_deleted()
    {
        string[] tags = ["O", "B-duration", "I-duration"];
        var example = new EncodedNluExample(new NluExample("in 10 minutes", "en", "reminder_create", []), [5, 6, 7, 8], [], [0, 1, 2, 2], 8);
        // Keep, delete (r < 2p/3), keep, keep.
        var augmented = NluTrainer.Augment([example], 0.3, 100, tags, new FixedRandom(0.99, 0.0, 0.99, 0.99));
        Assert.Equal([5, 7, 8], augmented[0].Ids);
        Assert.Equal([0, 1, 2], augmented[0].Tags);
    }

    private sealed class FixedRandom(params double[] values) : Random
    {
        private int next;
        public override double NextDouble() => values[next++ % values.Length];
    }
}
