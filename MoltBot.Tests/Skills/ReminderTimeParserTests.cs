using MoltBot.Skills.Reminders;

namespace MoltBot.Tests.Skills;

public class ReminderTimeParserTests
{
    // Monday 23 November 2026, 10:00 in Shanghai (02:00 UTC).
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 2, 0, 0, TimeSpan.Zero);
    private static readonly TimeZoneInfo Shanghai = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai");

    [Theory]
    [InlineData("remind me in 10 minutes to stretch", 10)]
    [InlineData("in an hour and a half call Bob", 90)]
    [InlineData("remind me in half an hour", 30)]
    [InlineData("in 1 hour and 15 minutes", 75)]
    [InlineData("in 2h", 120)]
    [InlineData("in 90 seconds", 1.5)]
    [InlineData("3 days from now", 3 * 24 * 60)]
    [InlineData("10分钟后提醒我喝水", 10)]
    [InlineData("十五分钟后", 15)]
    [InlineData("半小时后提醒我", 30)]
    [InlineData("一个半小时后", 90)]
    [InlineData("两个小时后", 120)]
    [InlineData("1小时20分钟后", 80)]
    [InlineData("一刻钟后", 15)]
    [InlineData("过3天提醒我", 3 * 24 * 60)]
    public void Durations(string text, double minutes)
    {
        var parsed = ReminderTimeParser.Parse(text, Now, Shanghai);
        Assert.NotNull(parsed);
        Assert.True(parsed.Relative);
        Assert.Equal(TimeSpan.FromMinutes(minutes), parsed.DueUtc - Now);
    }

    [Theory]
    [InlineData("remind me tomorrow at 8am to call mom", "2026-11-24 08:00")]
    [InlineData("tomorrow at 8:30 pm", "2026-11-24 20:30")]
    [InlineData("at 3pm", "2026-11-23 15:00")]
    [InlineData("at 9", "2026-11-23 21:00")] // 9 am has passed: the next 9 o'clock
    [InlineData("at 11", "2026-11-23 11:00")]
    [InlineData("at 9:30am", "2026-11-24 09:30")] // passed today: tomorrow
    [InlineData("at 17:45", "2026-11-23 17:45")]
    [InlineData("tonight", "2026-11-23 21:00")]
    [InlineData("tomorrow morning", "2026-11-24 09:00")]
    [InlineData("tomorrow evening at 7", "2026-11-24 19:00")]
    [InlineData("on Friday at 10am", "2026-11-27 10:00")]
    [InlineData("next monday at 9am", "2026-11-30 09:00")]
    [InlineData("on 2026-12-24 at 18:00", "2026-12-24 18:00")]
    [InlineData("on Dec 24 at 6pm", "2026-12-24 18:00")]
    [InlineData("明天早上8点提醒我开会", "2026-11-24 08:00")]
    [InlineData("明天下午三点半", "2026-11-24 15:30")]
    [InlineData("今晚9点", "2026-11-23 21:00")]
    [InlineData("晚上8点15分", "2026-11-23 20:15")]
    [InlineData("后天上午10点", "2026-11-25 10:00")]
    [InlineData("中午12点", "2026-11-23 12:00")]
    [InlineData("下午2点", "2026-11-23 14:00")]
    [InlineData("周五上午9点", "2026-11-27 09:00")]
    [InlineData("下周一早上7点", "2026-11-30 07:00")]
    [InlineData("12月24日晚上7点", "2026-12-24 19:00")]
    [InlineData("明天", "2026-11-24 09:00")]
    [InlineData("18:30提醒我", "2026-11-23 18:30")]
    public void Clock_times_and_days_in_the_users_zone(string text, string expectedLocal)
    {
        var parsed = ReminderTimeParser.Parse(text, Now, Shanghai);
        Assert.NotNull(parsed);
        Assert.Equal(expectedLocal, TimeZoneInfo.ConvertTime(parsed.DueUtc, Shanghai).ToString("yyyy-MM-dd HH:mm"));
    }

    [Fact]
    public void The_same_words_mean_different_instants_in_different_zones()
    {
        var ny = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");
        var inShanghai = ReminderTimeParser.Parse("tomorrow at 8am", Now, Shanghai)!.DueUtc;
        var inNewYork = ReminderTimeParser.Parse("tomorrow at 8am", Now, ny)!.DueUtc;
        Assert.Equal(new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero), inShanghai);
        // In New York it is still Sunday 22 November (21:00): "tomorrow" is Monday the 23rd, 08:00 EST = 13:00 UTC.
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 13, 0, 0, TimeSpan.Zero), inNewYork);
    }

    [Theory]
    [InlineData("call mom")]
    [InlineData("remind me to buy milk")]
    [InlineData("提醒我买牛奶")]
    [InlineData("at 25:00")]
    public void No_time_or_an_impossible_time_is_not_invented(string text)
    {
        Assert.Null(ReminderTimeParser.Parse(text, Now, Shanghai));
    }
}
