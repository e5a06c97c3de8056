using MoltBot.Contracts.Skills;
using MoltBot.Skills.Dispatch;

namespace MoltBot.Tests.Skills;

/// <summary>
/// Built-in skills that only compute (time, help) start on the caller's thread (<see cref="SkillEntry.RunsInline"/>);
/// every other skill still runs behind a thread-pool hop, so one that blocks cannot hold the caller.
/// </summary>
public class InlineSkillTests
{
    // Set by the test on its own thread for exactly the duration of its synchronous ExecuteAsync call.
    [ThreadStatic] private static bool t_insideCall;

    /// <summary>Answers "inside" when it was started within the caller's ExecuteAsync call, on the caller's thread.</summary>
    private sealed class ThreadSkill(string id) : ISkill
    {
        public SkillManifest Manifest { get; } = new() { Id = id, Triggers = new SkillTriggers { Keywords = [id] } };

        public Task<SkillResult> ExecuteAsync(SkillContext context, CancellationToken cancellationToken) =>
            Task.FromResult(SkillResult.Say(t_insideCall ? "inside" : "elsewhere"));
    }

    private static Task<SkillResult> Call(SkillsHarness skills, string id)
    {
        t_insideCall = true;
        try
        {
            return skills.Dispatcher.ExecuteAsync(id, SkillsHarness.Context(id), CancellationToken.None);
        }
        finally
        {
            t_insideCall = false;
        }
    }

    [Fact]
    public async Task Only_the_computing_built_ins_run_inline()
    {
        await using var skills = await SkillsHarness.StartAsync(configure: s => s.AddSingleton<ISkill>(new ThreadSkill("host-skill")));
        try
        {
            var registry = skills.Services.GetRequiredService<SkillRegistry>();
            var inline = registry.Entries.Where(e => e.RunsInline).Select(e => e.Id).Order().ToList();
            Assert.Equal(["help", "time"], inline);
            Assert.False(registry.Find("weather")!.RunsInline);
            Assert.False(registry.Find("reminders")!.RunsInline);
            Assert.False(registry.Find("host-skill")!.RunsInline);
        }
        finally
        {
            SkillsHarness.DeleteRoot(skills.Root);
        }
    }

    [Fact]
    public async Task An_inline_skill_starts_within_the_callers_call_and_any_other_behind_a_thread_pool_hop()
    {
        await using var skills = await SkillsHarness.StartAsync();
        try
        {
            var registry = skills.Services.GetRequiredService<SkillRegistry>();
            registry.SetPlugin(new SkillEntry(new ThreadSkill("inline-probe"), new ThreadSkill("inline-probe").Manifest, "test", TimeSpan.FromSeconds(30), 1) { RunsInline = true });
            registry.SetPlugin(new SkillEntry(new ThreadSkill("pooled-probe"), new ThreadSkill("pooled-probe").Manifest, "test", TimeSpan.FromSeconds(30), 1));

            // The caller stays on its thread up to the skill's start (a free slot is taken synchronously).
            Assert.Equal("inside", (await Call(skills, "inline-probe")).Text);
            Assert.Equal("elsewhere", (await Call(skills, "pooled-probe")).Text);
        }
        finally
        {
            SkillsHarness.DeleteRoot(skills.Root);
        }
    }

    [Fact]
    public async Task An_inline_skill_that_throws_before_its_task_gets_the_apology_and_gives_its_slot_back()
    {
        await using var skills = await SkillsHarness.StartAsync();
        try
        {
            var registry = skills.Services.GetRequiredService<SkillRegistry>();
            var throwing = new ThrowingSkill();
            registry.SetPlugin(new SkillEntry(throwing, throwing.Manifest, "test", TimeSpan.FromSeconds(30), 1) { RunsInline = true });

            for (int i = 0; i < 3; i++) // one slot: the second and third calls get it only if the first gave it back
            {
                var result = await skills.Dispatcher.ExecuteAsync("boom", SkillsHarness.Context("explode"), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
                Assert.False(result.Succeeded);
                Assert.StartsWith("Sorry", result.Text);
            }
        }
        finally
        {
            SkillsHarness.DeleteRoot(skills.Root);
        }
    }
}
