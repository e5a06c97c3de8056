namespace MoltBot.Tests.Skills;

public class TimeSkillTests
{
    // Monday 23 November 2026, 10:00 UTC: Tokyo 19:00, Beijing 18:00, London 10:00, New York 05:00.
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("what time is it in Tokyo?", "en", "It's 7:00 PM (19:00) on Monday, 23 November 2026 in Tokyo (Asia/Tokyo).")]
    [InlineData("东京现在几点", "zh", "东京现在是2026年11月23日 星期一 19:00（Asia/Tokyo）。")]
    [InlineData("what's the time in Europe/Berlin", "en", "It's 11:00 AM (11:00) on Monday, 23 November 2026 in Europe/Berlin (Europe/Berlin).")]
    [InlineData("time difference between London and Tokyo", "en", "London is 9 hours behind Tokyo (London 10:00, Tokyo 19:00).")]
    [InlineData("北京和纽约差几个小时", "zh", "北京比纽约快13小时（北京 18:00，纽约 05:00）。")]
    [InlineData("time difference between Paris and Berlin", "en", "Paris and Berlin have the same time right now (11:00).")]
    [InlineData("what's the time difference between Mumbai and London?", "en", "Mumbai is 5.5 hours ahead of London (Mumbai 15:30, London 10:00).")]
    public async Task Cities_zones_and_differences(string text, string language, string expected)
    {
        await using var skills = await SkillsHarness.StartAsync(clock: new FakeClock(Now));
        try
        {
            var (id, result) = await skills.SayAsync(text, language);
            Assert.Equal("time", id);
            Assert.Equal(expected, result.Text);
        }
        finally
        {
            SkillsHarness.DeleteRoot(skills.Root);
        }
    }

    [Fact]
    public async Task Without_a_place_the_users_own_time_zone_is_used_else_the_configured_default()
    {
        await using var skills = await SkillsHarness.StartAsync(
            settings: new Dictionary<string, string?> { ["Skills:DefaultTimeZone"] = "America/New_York" }, clock: new FakeClock(Now));
        try
        {
            var own = await skills.Dispatcher.ExecuteAsync("time", SkillsHarness.Context("what time is it", timeZone: "Asia/Shanghai"), CancellationToken.None);
            Assert.Contains("(18:00)", own.Text);
            var fallback = await skills.Dispatcher.ExecuteAsync("time", SkillsHarness.Context("what time is it"), CancellationToken.None);
            Assert.Contains("(05:00)", fallback.Text);
            Assert.Contains("America/New_York", fallback.Text);
            var date = await skills.Dispatcher.ExecuteAsync("time", SkillsHarness.Context("今天几号", "zh", timeZone: "Asia/Shanghai"), CancellationToken.None);
            Assert.Equal("今天是2026年11月23日 星期一。", date.Text);
        }
        finally
        {
            SkillsHarness.DeleteRoot(skills.Root);
        }
    }
}
