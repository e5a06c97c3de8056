using Microsoft.Extensions.Options;
using MoltBot.Contracts.Configuration;

namespace MoltBot.Tests.Skills;

public class SkillsConfigurationTests
{
    [Theory]
    [InlineData("Skills:DefaultTimeoutSeconds", "0", "Skills:DefaultTimeoutSeconds must be between 1 and 3600.")]
    [InlineData("Skills:DefaultMaxConcurrency", "0", "Skills:DefaultMaxConcurrency must be between 1 and 10000.")]
    [InlineData("Skills:DefaultTimeZone", "Mars/Olympus", "Skills:DefaultTimeZone 'Mars/Olympus' is not a known IANA time zone")]
    [InlineData("Skills:Weather:ForecastBaseUrl", "ftp://x", "Skills:Weather:ForecastBaseUrl 'ftp://x' must be an absolute http(s) URL.")]
    [InlineData("Skills:Reminders:MaxDaysAhead", "0", "Skills:Reminders:MaxDaysAhead must be between 1 and 3650.")]
    [InlineData("Skills:Reminders:OpenDelayMs", "-1", "Skills:Reminders:OpenDelayMs must be between 0 (open at start) and 600000 ms.")]
    [InlineData("Skills:Memory:RecallCount", "50", "Skills:Memory:RecallCount must be between 1 and 20.")]
    public async Task Bad_options_stop_start_up_naming_the_key(string key, string value, string message)
    {
        string root = SkillsHarness.NewRoot();
        try
        {
            var ex = await Assert.ThrowsAsync<OptionsValidationException>(() =>
                SkillsHarness.StartAsync(root, new Dictionary<string, string?> { [key] = value }));
            Assert.Contains(ex.Failures, f => f.Contains(message, StringComparison.Ordinal));
        }
        finally
        {
            SkillsHarness.DeleteRoot(root);
        }
    }

    [Theory]
    [InlineData("{ nope", "time.json: not valid JSON")]
    [InlineData("""{ "TimeoutSeconds": 0 }""", "time.json: TimeoutSeconds must be a whole number between 1 and 3600.")]
    [InlineData("""{ "Colour": "red" }""", "time.json: unknown key 'Colour'")]
    public async Task A_bad_per_skill_file_stops_start_up_with_one_line_naming_it(string content, string message)
    {
        string root = SkillsHarness.NewRoot();
        Directory.CreateDirectory(Path.Combine(root, "config", "skills"));
        await File.WriteAllTextAsync(Path.Combine(root, "config", "skills", "time.json"), content);
        try
        {
            var ex = await Assert.ThrowsAsync<StartupException>(() => SkillsHarness.StartAsync(root));
            Assert.Contains(message, ex.Message);
            Assert.DoesNotContain('\n', ex.Message);
        }
        finally
        {
            SkillsHarness.DeleteRoot(root);
        }
    }

    [Fact]
    public async Task A_per_skill_file_can_disable_a_built_in_skill()
    {
        string root = SkillsHarness.NewRoot();
        Directory.CreateDirectory(Path.Combine(root, "config", "skills"));
        await File.WriteAllTextAsync(Path.Combine(root, "config", "skills", "weather.json"), """{ "Enabled": false }""");
        await using var skills = await SkillsHarness.StartAsync(root);
        try
        {
            Assert.DoesNotContain(skills.Dispatcher.Skills, s => s.Id == "weather");
            Assert.Null(skills.Dispatcher.Match("weather in Berlin", SkillsHarness.Nlu()));
        }
        finally
        {
            SkillsHarness.DeleteRoot(root);
        }
    }

    [Fact]
    public async Task The_whole_host_starts_with_the_skills_module_and_serves_the_dispatcher()
    {
        await using var host = await TestHost.StartAsync();
        var dispatcher = host.Services.GetRequiredService<MoltBot.Contracts.Skills.ISkillDispatcher>();
        Assert.Contains(dispatcher.Skills, s => s.Id == "reminders");
        Assert.True(Directory.Exists(Path.Combine(host.Root, "plugins")));
        var result = await dispatcher.ExecuteAsync("time", SkillsHarness.Context("what time is it in Tokyo"), CancellationToken.None);
        Assert.Contains("Asia/Tokyo", result.Text);
    }
}
