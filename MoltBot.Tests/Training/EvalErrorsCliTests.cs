using System.Text.Json.Nodes;
using MoltBot.Cli;

namespace MoltBot.Tests.Training;

/// <summary>`eval nlu --errors FILE` lists exactly the examples whose intent or entity set is wrong.</summary>
public sealed class EvalErrorsCliTests
{
    [Fact]
    public async Task Eval_nlu_writes_only_the_wrong_predictions_to_the_errors_file()
    {
        using var dir = new TempDir();
        string data = dir.File("data.jsonl"), errors = dir.File("errors.jsonl");
        // "hello" carries a deliberately wrong gold label; the Tokyo question is labelled right and parsed right.
        File.WriteAllLines(data,
        [
            """{"text":"hello","lang":"en","intent":"weather_query","entities":[]}""",
            """{"text":"what time is it in Tokyo?","lang":"en","intent":"time_query","entities":[{"type":"location","value":"Tokyo","start":19,"end":24}]}""",
        ]);
        // No --json and no console capture: other tests capture Console.Out, so this one leaves it alone.
        int code = await CliApp.InvokeAsync(["eval", "nlu", "--data", data, "--model", Path.Combine(RepoRoot.Path, "models", "student-nlu"), "--errors", errors]);
        Assert.Equal(0, code);
        var lines = File.ReadAllLines(errors);
        var line = Assert.Single(lines);
        var error = JsonNode.Parse(line)!;
        Assert.Equal("hello", (string?)error["text"]);
        Assert.Equal("weather_query", (string?)error["intent"]);
        Assert.Equal("greet", (string?)error["predicted_intent"]);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("257")]
    public async Task Eval_nlu_refuses_a_thread_count_out_of_range(string threads)
    {
        using var dir = new TempDir();
        string data = dir.File("data.jsonl");
        File.WriteAllLines(data, ["""{"text":"hello","lang":"en","intent":"greet","entities":[]}"""]);
        int code = await CliApp.InvokeAsync(["eval", "nlu", "--data", data, "--model", Path.Combine(RepoRoot.Path, "models", "student-nlu"), "--threads", threads]);
        Assert.NotEqual(0, code);
    }
}
