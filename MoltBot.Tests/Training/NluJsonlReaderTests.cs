using MoltBot.Inference.Training.Corpus;

namespace MoltBot.Tests.Training;

public sealed class NluJsonlReaderTests
{
    private const string Good = """{"text": "remind me to call mom at 5 pm", "lang": "en", "intent": "reminder_create", "entities": [{"type": "reminder_text", "value": "call mom", "start": 13, "end": 21}, {"type": "datetime", "value": "at 5 pm", "start": 22, "end": 29}]}""";

    [Fact]
    public void Reads_a_valid_file_with_code_point_offsets()
    {
        using var dir = new TempDir();
        string file = dir.File("a.jsonl");
        File.WriteAllLines(file, [Good, """{"text":"提醒我明天买牛奶","lang":"zh","intent":"reminder_create","entities":[{"type":"datetime","value":"明天","start":3,"end":5}]}""", ""]);
        var data = NluJsonlReader.Read(file);
        Assert.Equal(2, data.Examples.Count);
        Assert.Equal("at 5 pm", data.Examples[0].Entities[1].Value);
        Assert.Equal(("datetime", 3, 5), (data.Examples[1].Entities[0].Type, data.Examples[1].Entities[0].Start, data.Examples[1].Entities[0].End));
    }

    [Theory]
    [InlineData("{not json", "not valid JSON")]
    [InlineData("""{"text":"hi","lang":"fr","intent":"greet"}""", "\"lang\" must be")]
    [InlineData("""{"lang":"en","intent":"greet"}""", "missing or non-string \"text\"")]
    [InlineData("""{"text":"hi there","lang":"en","intent":"greet","entities":[{"type":"location","value":"there","start":2,"end":8}]}""", "does not match")]
    [InlineData("""{"text":"hi","lang":"en","intent":"greet","entities":[{"type":"location","value":"hi","start":0,"end":9}]}""", "outside the text")]
    public void Malformed_line_fails_naming_file_and_line(string bad, string reason)
    {
        using var dir = new TempDir();
        string file = dir.File("bad.jsonl");
        File.WriteAllLines(file, [Good, bad, Good]);
        var e = Assert.Throws<NluDataException>(() => NluJsonlReader.Read(file, MalformedLinePolicy.Fail));
        Assert.Equal(2, e.Line);
        Assert.StartsWith($"{file}:2: ", e.Message);
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void Malformed_line_is_skipped_and_reported_under_skip_policy()
    {
        using var dir = new TempDir();
        string file = dir.File("bad.jsonl");
        File.WriteAllLines(file, [Good, "{oops", Good]);
        var data = NluJsonlReader.Read(file, MalformedLinePolicy.Skip);
        Assert.Equal(2, data.Examples.Count);
        var skipped = Assert.Single(data.Skipped);
        Assert.Equal(2, skipped.Line);
        Assert.Equal(file, skipped.File);
    }

    [Theory]
    [InlineData(MalformedLinePolicy.Fail)]
    [InlineData(MalformedLinePolicy.Skip)]
    public void Unknown_intent_label_is_an_error_under_every_policy(MalformedLinePolicy policy)
    {
        using var dir = new TempDir();
        string file = dir.File("labels.jsonl");
        File.WriteAllLines(file, [Good, """{"text":"order a pizza","lang":"en","intent":"order_food","entities":[]}"""]);
        var e = Assert.Throws<NluDataException>(() => NluJsonlReader.Read(file, policy));
        Assert.Equal(2, e.Line);
        Assert.Contains("unknown intent label \"order_food\"", e.Message);
    }

    [Fact]
    public void Unknown_entity_type_is_an_error()
    {
        using var dir = new TempDir();
        string file = dir.File("labels.jsonl");
        File.WriteAllLines(file, ["""{"text":"hi bob","lang":"en","intent":"greet","entities":[{"type":"person","value":"bob","start":3,"end":6}]}"""]);
        var e = Assert.Throws<NluDataException>(() => NluJsonlReader.Read(file, MalformedLinePolicy.Skip));
        Assert.Contains("unknown entity type \"person\"", e.Message);
    }

    [Fact]
    public void Written_file_reads_back_identically()
    {
        using var dir = new TempDir();
        string a = dir.File("a.jsonl"), b = dir.File("b.jsonl");
        File.WriteAllLines(a, [Good]);
        var data = NluJsonlReader.Read(a);
        NluJsonlReader.Write(b, data.Examples);
        var again = NluJsonlReader.Read(b);
        Assert.Equal(data.Examples[0].Text, again.Examples[0].Text);
        Assert.Equal(data.Examples[0].Entities, again.Examples[0].Entities);
    }
}
