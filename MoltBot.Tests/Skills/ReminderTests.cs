using MoltBot.Contracts.Inference;
using MoltBot.Contracts.Messaging;

namespace MoltBot.Tests.Skills;

public class ReminderTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_reminder_fires_within_one_second_of_its_time_on_the_conversation_it_came_from()
    {
        var clock = new FakeClock(Start);
        await using var skills = await SkillsHarness.StartAsync(clock: clock);
        try
        {
            long armed = clock.TimerChanges;
            var (id, created) = await skills.SayAsync("remind me in 10 minutes to stretch", conversation: "chat-42", user: "alice");
            Assert.Equal("reminders", id);
            Assert.Contains("stretch", created.Text);
            long dueMs = Start.AddMinutes(10).ToUnixTimeMilliseconds();

            // The scheduler is asleep until exactly the reminder's time before the clock moves (see WaitForTimerDueAtAsync).
            await clock.WaitForTimerDueAtAsync(Start.AddMinutes(10), TimeSpan.FromSeconds(10), since: armed);
            clock.Advance(TimeSpan.FromMinutes(9) + TimeSpan.FromSeconds(59));
            Assert.Null(await skills.Outbound.NextAsync(TimeSpan.FromMilliseconds(500)));

            clock.Advance(TimeSpan.FromSeconds(1));
            var fired = await skills.Outbound.NextAsync(TimeSpan.FromSeconds(10));
            Assert.NotNull(fired);
            Assert.Equal("⏰ Reminder: stretch", fired.Text);
            Assert.Equal(Platforms.Web, fired.Platform);
            Assert.Equal("chat-42", fired.ConversationId);
            Assert.Equal("alice", fired.UserId);
            Assert.Equal(OutboundKind.Final, fired.Kind);
            Assert.InRange(fired.TimestampMs - dueMs, 0, 1000);

            // Fired once: it is marked fired (right after the queue accepted it) and nothing else is sent.
            await SkillIsolationTests.WaitUntilAsync(async () =>
                (await skills.SayAsync("list my reminders", user: "alice")).Result.Text == "You have no pending reminders.");
            clock.Advance(TimeSpan.FromHours(1));
            Assert.Null(await skills.Outbound.NextAsync(TimeSpan.FromMilliseconds(300)));
        }
        finally
        {
            SkillsHarness.DeleteRoot(skills.Root);
        }
    }

    [Fact]
    public async Task Chinese_reminders_fire_in_the_users_time_zone_in_chinese()
    {
        var clock = new FakeClock(Start); // 18:00 in Shanghai
        await using var skills = await SkillsHarness.StartAsync(clock: clock);
        try
        {
            long armed = clock.TimerChanges;
            var (_, created) = await skills.SayAsync("明天早上8点提醒我开会", "zh", timeZone: "Asia/Shanghai");
            Assert.Equal("好的，我会在明天 08:00提醒你：开会", created.Text);

            // Woken by the new reminder, the scheduler sleeps its longest (30 minutes) again before the clock moves.
            await clock.WaitForTimerDueAtAsync(Start.AddMinutes(30), TimeSpan.FromSeconds(10), since: armed);
            clock.Advance(TimeSpan.FromHours(13) + TimeSpan.FromMinutes(59)); // 07:59 Shanghai
            Assert.Null(await skills.Outbound.NextAsync(TimeSpan.FromMilliseconds(300)));
            // The 07:59 step woke the scheduler (its 30-minute sleep ended); it must be asleep until 08:00 before the next step.
            await clock.WaitForTimerDueAtAsync(Start.AddHours(14), TimeSpan.FromSeconds(10));
            clock.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromMilliseconds(500));
            var fired = await skills.Outbound.NextAsync(TimeSpan.FromSeconds(10));
            Assert.Equal("⏰ 提醒：开会", fired!.Text);
            Assert.Equal("zh", fired.Language);
            Assert.InRange(fired.TimestampMs - new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds(), 0, 1000);
        }
        finally
        {
            SkillsHarness.DeleteRoot(skills.Root);
        }
    }

    [Fact]
    public async Task Reminders_survive_a_restart_late_ones_fire_at_start_and_future_ones_on_time()
    {
        var clock = new FakeClock(Start);
        string root = SkillsHarness.NewRoot();
        try
        {
            await using (var first = await SkillsHarness.StartAsync(root, clock: clock))
            {
                await first.SayAsync("remind me in 10 minutes to take the pizza out", conversation: "c-late");
                await first.SayAsync("remind me in 2 hours to call Bob", conversation: "c-future");
            }
            Assert.True(File.Exists(Path.Combine(root, "data", "skills", "reminders.db")));

            // Down for 30 minutes: the first reminder fell due meanwhile.
            clock.Advance(TimeSpan.FromMinutes(30));
            await using var second = await SkillsHarness.StartAsync(root, clock: clock);
            var late = await second.Outbound.NextAsync(TimeSpan.FromSeconds(10));
            Assert.NotNull(late);
            Assert.Equal("c-late", late.ConversationId);
            Assert.StartsWith("⏰ Reminder: take the pizza out (this was due at 2026-11-23 10:10", late.Text);
            Assert.Null(await second.Outbound.NextAsync(TimeSpan.FromMilliseconds(300)));

            clock.Advance(TimeSpan.FromMinutes(90));
            var onTime = await second.Outbound.NextAsync(TimeSpan.FromSeconds(10));
            Assert.Equal("⏰ Reminder: call Bob", onTime!.Text);
            Assert.Equal("c-future", onTime.ConversationId);
            Assert.InRange(onTime.TimestampMs - Start.AddHours(2).ToUnixTimeMilliseconds(), 0, 1000);
        }
        finally
        {
            SkillsHarness.DeleteRoot(root);
        }
    }

    [Fact]
    public async Task With_FireLateOnStart_off_a_missed_reminder_is_not_sent()
    {
        var clock = new FakeClock(Start);
        string root = SkillsHarness.NewRoot();
        var settings = new Dictionary<string, string?> { ["Skills:Reminders:FireLateOnStart"] = "false" };
        try
        {
            await using (var first = await SkillsHarness.StartAsync(root, settings, clock))
            {
                await first.SayAsync("remind me in 10 minutes to stretch");
            }
            clock.Advance(TimeSpan.FromHours(1));
            await using var second = await SkillsHarness.StartAsync(root, settings, clock);
            await SkillIsolationTests.WaitUntilAsync(async () =>
                (await second.SayAsync("list my reminders")).Result.Text == "You have no pending reminders.");
            Assert.Null(await second.Outbound.NextAsync(TimeSpan.FromMilliseconds(500)));
        }
        finally
        {
            SkillsHarness.DeleteRoot(root);
        }
    }

    [Fact]
    public async Task List_and_cancel_in_both_languages()
    {
        var clock = new FakeClock(Start);
        await using var skills = await SkillsHarness.StartAsync(clock: clock);
        try
        {
            await skills.SayAsync("remind me in 1 hour to water the plants");
            await skills.SayAsync("remind me tomorrow at 9am to pay rent");
            await skills.SayAsync("30分钟后提醒我喝水", "zh");

            var (_, list) = await skills.SayAsync("what are my reminders?");
            Assert.StartsWith("You have 3 reminders:", list.Text);
            Assert.Contains("1. 2026-11-23 10:30 — 喝水", list.Text);
            Assert.Contains("2. 2026-11-23 11:00 — water the plants", list.Text);
            Assert.Contains("3. 2026-11-24 09:00 — pay rent", list.Text);

            var (_, cancelled) = await skills.SayAsync("cancel reminder 2");
            Assert.Equal("Cancelled the reminder: water the plants", cancelled.Text);
            var (_, byText) = await skills.SayAsync("取消喝水的提醒", "zh");
            Assert.Equal("已取消提醒：喝水", byText.Text);
            var (_, zhList) = await skills.SayAsync("我有哪些提醒", "zh");
            Assert.StartsWith("你有1个提醒：", zhList.Text);

            // Cancelled reminders never fire.
            clock.Advance(TimeSpan.FromHours(2));
            Assert.Null(await skills.Outbound.NextAsync(TimeSpan.FromMilliseconds(500)));
            var (_, all) = await skills.SayAsync("cancel all reminders");
            Assert.Equal("Cancelled the reminder: pay rent", all.Text);

            var other = await skills.Dispatcher.ExecuteAsync("reminders",
                SkillsHarness.Context("list", intent: Intents.ReminderList, user: "someone-else"), CancellationToken.None);
            Assert.Equal("You have no pending reminders.", other.Text);
        }
        finally
        {
            SkillsHarness.DeleteRoot(skills.Root);
        }
    }

    [Fact]
    public async Task Past_times_are_refused()
    {
        var clock = new FakeClock(Start);
        await using var skills = await SkillsHarness.StartAsync(clock: clock);
        try
        {
            var (_, r) = await skills.SayAsync("remind me on 2020-01-01 at 10:00 to vote");
            Assert.Contains("already passed", r.Text);
        }
        finally
        {
            SkillsHarness.DeleteRoot(skills.Root);
        }
    }
}
