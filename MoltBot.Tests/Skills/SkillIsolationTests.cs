using Microsoft.Extensions.Logging;
using MoltBot.Contracts.Skills;

namespace MoltBot.Tests.Skills;

public class SkillIsolationTests
{
    [Fact]
    public async Task A_throwing_skill_gets_an_apology_in_the_users_language_and_the_error_is_logged_with_the_trace_id()
    {
        await using var skills = await SkillsHarness.StartAsync(configure: s => s.AddSingleton<ISkill, ThrowingSkill>());
        try
        {
            var zh = await skills.Dispatcher.ExecuteAsync("boom", SkillsHarness.Context("爆炸", "zh", traceId: "trace-zh-1"), CancellationToken.None);
            Assert.False(zh.Succeeded);
            Assert.Contains("抱歉", zh.Text);
            var en = await skills.Dispatcher.ExecuteAsync("boom", SkillsHarness.Context("explode", traceId: "trace-en-1"), CancellationToken.None);
            Assert.False(en.Succeeded);
            Assert.StartsWith("Sorry", en.Text);

            var errors = skills.Logs.Events.Where(e => e.Level == LogLevel.Error).ToList();
            Assert.Contains(errors, e => e.Message.Contains("trace-zh-1") && e.Exception is InvalidOperationException);
            Assert.Contains(errors, e => e.Message.Contains("trace-en-1"));
            // The skill keeps working for the next user (no permanent damage).
            var again = await skills.Dispatcher.ExecuteAsync("time", SkillsHarness.Context("what time is it"), CancellationToken.None);
            Assert.True(again.Succeeded);
        }
        finally
        {
            SkillsHarness.DeleteRoot(skills.Root);
        }
    }

    [Fact]
    public async Task A_hanging_skill_times_out_uses_only_its_own_slots_and_other_conversations_are_answered()
    {
        using var hanging = new HangingSkill();
        string root = SkillsHarness.NewRoot();
        Directory.CreateDirectory(Path.Combine(root, "config", "skills"));
        await File.WriteAllTextAsync(Path.Combine(root, "config", "skills", "hang.json"), """{ "TimeoutSeconds": 2, "MaxConcurrency": 2 }""");
        await using var skills = await SkillsHarness.StartAsync(root, configure: s =>
        {
            s.AddSingleton<ISkill>(hanging);
            s.AddSingleton<ISkill, ThrowingSkill>();
        });
        try
        {
            // Two conversations hit the hanging skill and fill its two slots.
            var hung = Enumerable.Range(0, 2).Select(i =>
                skills.Dispatcher.ExecuteAsync("hang", SkillsHarness.Context("freeze", conversation: "hang-" + i, traceId: "trace-hang-" + i), CancellationToken.None)).ToList();
            await WaitUntilAsync(() => hanging.Started == 2);

            // Meanwhile other conversations are served at once, by other skills.
            var started = DateTime.UtcNow;
            var time = await skills.Dispatcher.ExecuteAsync("time", SkillsHarness.Context("what time is it", conversation: "other-1"), CancellationToken.None);
            var help = await skills.Dispatcher.ExecuteAsync("help", SkillsHarness.Context("帮助", "zh", conversation: "other-2"), CancellationToken.None);
            Assert.True(time.Succeeded);
            Assert.True(help.Succeeded);
            Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(1.5), "other skills must not wait for the hanging one");

            // The hung calls come back as timeouts, with an apology, and are logged with their trace ids.
            var results = await Task.WhenAll(hung);
            Assert.All(results, r =>
            {
                Assert.False(r.Succeeded);
                Assert.Contains("took too long", r.Text);
            });
            Assert.Contains(skills.Logs.Events, e => e.Level == LogLevel.Error && e.Message.Contains("trace-hang-1") && e.Message.Contains("timed out"));

            // Its threads are still blocked, so its slots stay taken: a third call is refused as busy, not queued forever.
            var third = await skills.Dispatcher.ExecuteAsync("hang", SkillsHarness.Context("freeze", "zh", conversation: "hang-3"), CancellationToken.None);
            Assert.False(third.Succeeded);
            Assert.Contains("太忙", third.Text);
            Assert.Equal(2, hanging.Started);

            hanging.Release();
        }
        finally
        {
            hanging.Release();
            SkillsHarness.DeleteRoot(root);
        }
    }

    [Fact]
    public async Task A_caller_cancellation_is_passed_through_not_turned_into_an_apology()
    {
        using var hanging = new HangingSkill();
        await using var skills = await SkillsHarness.StartAsync(configure: s => s.AddSingleton<ISkill>(hanging));
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
                skills.Dispatcher.ExecuteAsync("hang", SkillsHarness.Context("freeze"), cts.Token));
        }
        finally
        {
            hanging.Release();
            SkillsHarness.DeleteRoot(skills.Root);
        }
    }

    [Fact]
    public async Task An_unknown_skill_gets_a_polite_answer()
    {
        await using var skills = await SkillsHarness.StartAsync();
        try
        {
            var r = await skills.Dispatcher.ExecuteAsync("nope", SkillsHarness.Context("x"), CancellationToken.None);
            Assert.False(r.Succeeded);
            Assert.Contains("nope", r.Text);
        }
        finally
        {
            SkillsHarness.DeleteRoot(skills.Root);
        }
    }

    internal static Task WaitUntilAsync(Func<bool> condition, int seconds = 20) => WaitUntilAsync(() => Task.FromResult(condition()), seconds);

    internal static async Task WaitUntilAsync(Func<Task<bool>> condition, int seconds = 20)
    {
        var end = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < end, "condition not met in time");
            await Task.Delay(20);
        }
    }
}
