using MoltBot.Contracts.Inference;
using MoltBot.Contracts.Skills;

namespace MoltBot.Tests.Skills;

public class SlotFillingTests
{
    [Fact]
    public async Task A_missing_required_slot_is_asked_for_in_the_users_language_and_the_answer_reaches_the_skill()
    {
        await using var skills = await SkillsHarness.StartAsync(configure: s => s.AddSingleton<ISkill, BookingSkill>());
        try
        {
            var match = skills.Dispatcher.Match("我想订座", SkillsHarness.Nlu(language: "zh"));
            Assert.Equal("booking", match!.Id);
            Assert.Equal("datetime", Assert.Single(match.RequiredSlots).Slot);

            var ask = await skills.Dispatcher.ExecuteAsync("booking", SkillsHarness.Context("我想订座", "zh"), CancellationToken.None);
            Assert.Equal("订什么时候的？", ask.FollowUpQuestion);
            Assert.Equal("datetime", ask.MissingSlot);
            var askEn = await skills.Dispatcher.ExecuteAsync("booking", SkillsHarness.Context("book a table"), CancellationToken.None);
            Assert.Equal("For when?", askEn.FollowUpQuestion);

            var done = await skills.Dispatcher.ExecuteAsync("booking",
                SkillsHarness.Context("明晚7点", "zh", slots: new Dictionary<string, string> { ["datetime"] = "明晚7点" }), CancellationToken.None);
            Assert.Null(done.FollowUpQuestion);
            Assert.Equal("booked for 明晚7点", done.Text);
        }
        finally
        {
            SkillsHarness.DeleteRoot(skills.Root);
        }
    }

    [Fact]
    public async Task A_reminder_without_a_time_asks_when_and_the_datetime_slot_completes_it()
    {
        var clock = new FakeClock(new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero));
        await using var skills = await SkillsHarness.StartAsync(clock: clock);
        try
        {
            var (_, ask) = await skills.SayAsync("remind me to call mom");
            Assert.Equal(EntityTypes.DateTime, ask.MissingSlot);
            Assert.Contains("when", ask.FollowUpQuestion!, StringComparison.OrdinalIgnoreCase);

            // Next turn: the dialog manager passes the answer as the slot, with the original request text.
            var done = await skills.Dispatcher.ExecuteAsync("reminders", SkillsHarness.Context("remind me to call mom", intent: Intents.ReminderCreate,
                slots: new Dictionary<string, string> { [EntityTypes.DateTime] = "in 10 minutes" }), CancellationToken.None);
            Assert.Null(done.FollowUpQuestion);
            Assert.Contains("call mom", done.Text);
            Assert.Contains("10:10", done.Text);

            var (_, zhAsk) = await skills.SayAsync("明天早上8点提醒我", "zh");
            Assert.Equal(EntityTypes.ReminderText, zhAsk.MissingSlot);
            Assert.Equal("要提醒你什么事呢？", zhAsk.FollowUpQuestion);
        }
        finally
        {
            SkillsHarness.DeleteRoot(skills.Root);
        }
    }
}
