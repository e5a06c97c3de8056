using MoltBot.Contracts.Inference;

namespace MoltBot.Tests.Skills;

public class SkillMatchingTests : IAsyncLifetime
{
    private SkillsHarness _skills = null!;

    public async Task InitializeAsync() => _skills = await SkillsHarness.StartAsync(memory: new FakeFactMemory());

    public async Task DisposeAsync()
    {
        await _skills.DisposeAsync();
        SkillsHarness.DeleteRoot(_skills.Root);
    }

    [Theory]
    [InlineData("What's the weather in Berlin?", "weather")]
    [InlineData("will it rain tomorrow in Paris", "weather")]
    [InlineData("北京今天天气怎么样", "weather")]
    [InlineData("明天上海会下雨吗", "weather")]
    [InlineData("what time is it in Tokyo", "time")]
    [InlineData("东京现在几点", "time")]
    [InlineData("北京和纽约的时差是多少", "time")]
    [InlineData("what's the date today?", "time")]
    [InlineData("remind me in 10 minutes to stretch", "reminders")]
    [InlineData("明天早上8点提醒我开会", "reminders")]
    [InlineData("list my reminders", "reminders")]
    [InlineData("取消所有提醒", "reminders")]
    [InlineData("remember that my sister's birthday is May 3", "memory")]
    [InlineData("what did I tell you about my sister?", "memory")]
    [InlineData("记住我妹妹的生日是5月3日", "memory")]
    [InlineData("我跟你说过我妹妹什么", "memory")]
    [InlineData("help", "help")]
    [InlineData("你能做什么？", "help")]
    public void Keywords_in_english_and_chinese_pick_the_skill(string text, string expected)
    {
        var match = _skills.Dispatcher.Match(text, SkillsHarness.Nlu());
        Assert.NotNull(match);
        Assert.Equal(expected, match.Id);
    }

    [Fact]
    public void A_confident_intent_wins_over_keywords_and_a_weak_one_is_ignored()
    {
        Assert.Equal("weather", _skills.Dispatcher.Match("what time is it", SkillsHarness.Nlu(Intents.WeatherQuery, 0.9f))!.Id);
        Assert.Equal("time", _skills.Dispatcher.Match("what time is it", SkillsHarness.Nlu(Intents.WeatherQuery, 0.2f))!.Id);
        Assert.Equal("reminders", _skills.Dispatcher.Match("hmm", SkillsHarness.Nlu(Intents.ReminderList, 0.8f))!.Id);
    }

    [Theory]
    [InlineData("sometimes I wonder about things")]
    [InlineData("tell me a joke")]
    [InlineData("你好")]
    public void Unrelated_text_matches_no_skill(string text)
    {
        Assert.Null(_skills.Dispatcher.Match(text, SkillsHarness.Nlu(Intents.Smalltalk, 0.9f)));
    }

    [Fact]
    public void The_longest_keyword_decides_between_skills()
    {
        // "remind me" (reminders) is longer than "the time" (time).
        Assert.Equal("reminders", _skills.Dispatcher.Match("remind me in 5 minutes to check the time", SkillsHarness.Nlu())!.Id);
    }

    [Fact]
    public void Every_built_in_skill_is_listed_with_english_and_chinese_descriptions()
    {
        var ids = _skills.Dispatcher.Skills.Select(s => s.Id).ToList();
        Assert.Equal(["time", "weather", "reminders", "memory", "help"], ids);
        Assert.All(_skills.Dispatcher.Skills, s =>
        {
            Assert.False(string.IsNullOrWhiteSpace(s.Descriptions["en"]));
            Assert.False(string.IsNullOrWhiteSpace(s.Descriptions["zh"]));
        });
    }

    [Fact]
    public async Task Help_is_generated_from_the_registered_skills_in_the_users_language()
    {
        var en = await _skills.Dispatcher.ExecuteAsync("help", SkillsHarness.Context("help"), CancellationToken.None);
        Assert.Contains("remind me in 10 minutes", en.Text);
        Assert.Contains("what time is it in Tokyo", en.Text);
        var zh = await _skills.Dispatcher.ExecuteAsync("help", SkillsHarness.Context("你能做什么", "zh"), CancellationToken.None);
        Assert.Contains("我可以帮你做这些事", zh.Text);
        Assert.Contains("明天早上8点提醒我开会", zh.Text);
        Assert.DoesNotContain("Here is what I can do", zh.Text);
    }
}
