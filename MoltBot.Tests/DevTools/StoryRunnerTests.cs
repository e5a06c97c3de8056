using Microsoft.AspNetCore.Builder;
using MoltBot.Contracts.Inference;
using MoltBot.Contracts.Pipeline;
using MoltBot.DevTools;
using MoltBot.Contracts.Messaging;

namespace MoltBot.Tests.DevTools;

public class StoryRunnerTests
{
    private sealed class KeywordNlu : INluEngine
    {
        public Task<NluResult> ParseAsync(string text, CancellationToken cancellationToken)
        {
            int at = text.IndexOf("Paris", StringComparison.Ordinal);
            var entities = at >= 0 ? new[] { new EntitySpan("location", "Paris", at, at + 5) } : [];
            string intent = text.Contains("weather") ? Intents.WeatherQuery : Intents.Greet;
            return Task.FromResult(new NluResult(intent, 0.9f, entities, "en"));
        }
    }

    private static Action<WebApplicationBuilder> Fakes => b =>
    {
        b.Services.AddSingleton<INluEngine>(new KeywordNlu());
        b.Services.AddSingleton<IMessageHandler>(new DelegateHandler((e, r, ct) =>
            r.FinalAsync(new Reply(e.Text.Contains("weather") ? "Sunny in Paris" : "Hello!"), ct).AsTask()));
    };

    private static async Task<string> WriteStories(string json)
    {
        string dir = Directory.CreateTempSubdirectory("stories").FullName;
        await File.WriteAllTextAsync(Path.Combine(dir, "s.json"), json);
        return dir;
    }

    [Fact]
    public async Task Passing_and_failing_steps_are_reported()
    {
        string dir = await WriteStories("""
            { "stories": [
              { "name": "weather", "steps": [
                { "user": "hi", "intent": "greet", "reply": "^Hello" },
                { "user": "weather in Paris", "intent": "weather_query", "slots": { "location": "Paris" }, "reply": "Sunny" } ] },
              { "name": "wrong", "steps": [
                { "user": "weather in Rome", "intent": "greet", "slots": { "location": "Rome" }, "reply": "Rain" } ] }
            ] }
            """);
        var stories = await StoryRunner.LoadAsync(dir, CancellationToken.None);
        var results = await new StoryRunner().RunAsync(stories, Args(), CancellationToken.None, Fakes);

        Assert.Equal([true, true, false], results.Select(r => r.Passed));
        var failures = results[2].Failures;
        Assert.Contains(failures, f => f.StartsWith("intent weather_query"));
        Assert.Contains(failures, f => f.StartsWith("slot location=\"Rome\" not found"));
        Assert.Contains(failures, f => f.Contains("does not match /Rain/"));
    }

    [Theory]
    [InlineData("{ \"stories\": [ { \"name\": \"x\", \"steps\": [ { \"user\": \"a\", \"reply\": \"(\" } ] } ] }", "bad reply pattern")]
    [InlineData("{ \"stories\": [ { \"name\": \"x\", \"steps\": [] } ] }", "has no steps")]
    [InlineData("{ \"storys\": [] }", "not a story file")]
    [InlineData("[1,2", "not a story file")]
    public async Task Malformed_story_files_are_rejected_with_the_file_named(string json, string expected)
    {
        string dir = await WriteStories(json);
        var ex = await Assert.ThrowsAsync<InvalidDataException>(() => StoryRunner.LoadAsync(dir, CancellationToken.None));
        Assert.Contains("s.json", ex.Message);
        Assert.Contains(expected, ex.Message);
    }

    private static string[] Args() => ["--Models:Directory", Path.Combine(RepoRoot.Path, "models"), "--Log:Console", "none"];

    [Fact]
    public async Task The_bundled_stories_pass_with_the_bundled_models()
    {
        var stories = await StoryRunner.LoadAsync(Path.Combine(RepoRoot.Path, "stories"), CancellationToken.None);
        var results = await new StoryRunner().RunAsync(stories, Args(), CancellationToken.None);
        Assert.True(results.Count >= 8);
        var failed = results.Where(r => !r.Passed).Select(r => $"{r.Story} #{r.Step}: {string.Join("; ", r.Failures)}").ToList();
        Assert.True(failed.Count == 0, string.Join("\n", failed));
    }
}
