using Microsoft.Extensions.Options;
using MoltBot.Contracts.Inference;
using MoltBot.Contracts.Memory;
using MoltBot.Contracts.Pipeline;
using MoltBot.Contracts.Skills;
using MoltBot.Dialog;

namespace MoltBot.Tests.Dialog;

public class DialogManagerTests
{
    [Fact]
    public async Task Reminder_without_time_is_clarified_then_confirmed_then_run()
    {
        await using var h = await DialogHarness.StartAsync();

        var ask = await h.SayAsync("remind me to call mom");
        Assert.Equal(("When should I remind you?", "dialog:clarify"), (ask.Final!.Text, ask.Final.Source));
        var asking = await h.StateAsync();
        Assert.Equal((Intents.ReminderCreate, "reminder", EntityTypes.DateTime), (asking!.ActiveIntent, asking.SkillId, asking.PendingSlot));
        Assert.Equal("call mom", asking.FilledSlots[EntityTypes.ReminderText]);
        Assert.Equal([EntityTypes.DateTime], asking.MissingSlots);
        Assert.Equal(h.Clock.GetUtcNow().ToUnixTimeMilliseconds(), asking.UpdatedMs);

        var confirm = await h.SayAsync("at 5pm");
        Assert.Equal("dialog:confirm", confirm.Final!.Source);
        Assert.Contains("call mom", confirm.Final.Text);
        Assert.Contains("at 5pm", confirm.Final.Text);
        Assert.True((await h.StateAsync())!.AwaitingConfirmation);
        Assert.Empty(h.Skills.Executed);

        var done = await h.SayAsync("yes");
        Assert.Equal(("Reminder set: call mom at 5pm", "skill:reminder"), (done.Final!.Text, done.Final.Source));
        var (skill, context) = Assert.Single(h.Skills.Executed);
        Assert.Equal("reminder", skill);
        Assert.Equal("yes", context.Slots[DialogManager.ConfirmationSlot]);
        Assert.Equal("at 5pm", context.Slots[EntityTypes.DateTime]);
        // After "yes" the skill runs on the user's words for the request, not on "yes"; internal slots stay internal.
        Assert.Equal("remind me to call mom at 5pm", context.Envelope.Text);
        Assert.DoesNotContain(context.Slots.Keys, k => k.StartsWith('_'));
        var idle = await h.StateAsync();
        Assert.Null(idle!.ActiveIntent);
        Assert.False(idle.AwaitingConfirmation);

        var events = await h.EventsAsync();
        Assert.Equal(
            ["message.in", "dialog.clarify", "message.out", "message.in", "dialog.slot_filled", "dialog.confirm", "message.out", "message.in", "dialog.confirmed", "dialog.skill", "message.out"],
            events.Select(e => e.Kind));
        // Every message and state change is stamped in ms; turns were 1 s apart on the fake clock (which has ms 123).
        Assert.All(events, e => Assert.Equal(123, e.TimestampMs % 1000));
        Assert.Contains(Stages.Nlu, h.Observer.Stages);
        Assert.Contains(Stages.Dialog, h.Observer.Stages);
        Assert.Contains(Stages.Skill, h.Observer.Stages);
    }

    [Fact]
    public async Task A_free_text_answer_fills_the_asked_slot()
    {
        await using var h = await DialogHarness.StartAsync();
        Assert.Equal("What should I remind you about?", (await h.SayAsync("remind me")).Final!.Text);
        Assert.Equal("When should I remind you?", (await h.SayAsync("buy milk")).Final!.Text);
        Assert.Equal("dialog:confirm", (await h.SayAsync("tomorrow")).Final!.Source);
        Assert.Equal("Reminder set: buy milk tomorrow", (await h.SayAsync("yes")).Final!.Text);
    }

    [Fact]
    public async Task Deny_cancels_a_pending_confirmation()
    {
        await using var h = await DialogHarness.StartAsync();
        await h.SayAsync("remind me to call mom at 5pm");
        var cancelled = await h.SayAsync("no");
        Assert.Equal(("OK, I've cancelled that.", "dialog:cancelled"), (cancelled.Final!.Text, cancelled.Final.Source));
        Assert.Empty(h.Skills.Executed);
        Assert.Null((await h.StateAsync())!.ActiveIntent);
        Assert.Contains(await h.EventsAsync(), e => e.Kind == "dialog.denied");
    }

    [Fact]
    public async Task Topic_switch_mid_slot_filling_runs_the_new_intent_then_resumes_the_old_one()
    {
        await using var h = await DialogHarness.StartAsync(new Dictionary<string, string?> { ["Dialog:TopicSwitch"] = "resume" });
        await h.SayAsync("remind me to call mom");

        var weather = await h.SayAsync("what's the weather in Paris");
        Assert.Equal("skill:weather", weather.Final!.Source);
        Assert.Contains("Sunny in Paris", weather.Final.Text);
        Assert.Contains("Back to your earlier request: When should I remind you?", weather.Final.Text);
        Assert.Equal(EntityTypes.DateTime, (await h.StateAsync())!.PendingSlot);

        Assert.Equal("dialog:confirm", (await h.SayAsync("at 5pm")).Final!.Source);
        Assert.Equal("Reminder set: call mom at 5pm", (await h.SayAsync("yes")).Final!.Text);
        Assert.Equal(["weather", "reminder"], h.Skills.Executed.Select(e => e.SkillId));
        var kinds = (await h.EventsAsync()).Select(e => e.Kind).ToList();
        Assert.Contains("dialog.topic_switch", kinds);
        Assert.Contains("dialog.resume", kinds);
    }

    [Fact]
    public async Task Topic_switch_with_drop_forgets_the_unfinished_request()
    {
        await using var h = await DialogHarness.StartAsync(new Dictionary<string, string?> { ["Dialog:TopicSwitch"] = "drop" });
        await h.SayAsync("remind me to call mom");

        var weather = await h.SayAsync("what's the weather in Paris");
        Assert.Equal("Sunny in Paris", weather.Final!.Text);
        var state = await h.StateAsync();
        Assert.Null(state!.ActiveIntent);
        Assert.Null(state.Suspended);

        var later = await h.SayAsync("at 5pm");
        Assert.StartsWith("lm:", later.Final!.Source);
        Assert.Equal(["weather"], h.Skills.Executed.Select(e => e.SkillId));
    }

    [Fact]
    public async Task Replies_in_the_users_language()
    {
        await using var h = await DialogHarness.StartAsync();
        var ask = await h.SayAsync("提醒我给妈妈打电话");
        Assert.Equal("什么时候提醒你？", ask.Final!.Text);
        Assert.Equal("zh", ask.Final.Language);
        Assert.Equal("zh", (await h.Memory.Get<IUserProfileStore>().GetAsync("web:u1", CancellationToken.None)).Language);
        var cancelled = await h.SayAsync("不");
        Assert.Equal("好的，已取消。", cancelled.Final!.Text);
    }

    [Fact]
    public async Task A_fact_told_30_turns_earlier_is_recalled_by_vector_search_into_the_generation_context()
    {
        await using var h = await DialogHarness.StartAsync();
        var remembered = await h.SayAsync("remember that my locker code is 4711");
        Assert.Equal("dialog:remember", remembered.Final!.Source);
        string[] topics = ["movies", "cooking pasta", "the news", "football", "jazz music", "gardening", "a good book", "the ocean", "coffee", "mountains"];
        for (int i = 0; i < 30; i++) await h.SayAsync($"let us chat about {topics[i % topics.Length]} for a while, part {i}");

        var answer = await h.SayAsync("what is my locker code");

        Assert.Equal("Nice to hear!", answer.Final!.Text);
        var request = h.Generator.Requests[^1];
        Assert.Equal("system", request.Messages[0].Role);
        Assert.Contains("my locker code is 4711", request.Messages[0].Content);
        // The fact is far outside the 5-turn window: only vector recall can have put it there.
        var window = request.Messages.Skip(1).ToList();
        Assert.Equal(5 + 1, window.Count);
        Assert.DoesNotContain(window, m => m.Content.Contains("4711"));
        Assert.Equal(("user", "what is my locker code"), (window[^1].Role, window[^1].Content));
        Assert.Contains(Stages.Generation, h.Observer.Stages);
    }

    [Fact]
    public async Task Generated_replies_stream_as_deltas_with_the_profile_in_the_prompt()
    {
        await using var h = await DialogHarness.StartAsync();
        await h.SayAsync("what's the weather in Berlin", displayName: "Ann");
        var reply = await h.SayAsync("how are you today", displayName: "Ann");

        Assert.Equal(["Nice", " to", " hear", "!"], reply.Deltas);
        Assert.Equal(("Nice to hear!", "lm:student"), (reply.Final!.Text, reply.Final.Source));
        Assert.True(reply.Typing >= 1);
        string system = h.Generator.Requests[^1].Messages[0].Content;
        Assert.Contains("Ann", system);
        Assert.Contains("Berlin", system);
        Assert.Equal(64 * 2, h.Generator.Requests[^1].Sampling.MaxNewTokens);
    }

    [Fact]
    public async Task The_context_window_keeps_the_newest_turns_within_the_token_budget()
    {
        var settings = new Dictionary<string, string?> { ["Dialog:MaxContextTokens"] = "200", ["Dialog:MaxNewTokens"] = "64", ["Dialog:ContextTurns"] = "20", ["Memory:ShortTermTurns"] = "20" };
        await using var h = await DialogHarness.StartAsync(settings);
        for (int i = 0; i < 8; i++) await h.SayAsync($"turn {i} " + string.Concat(Enumerable.Repeat("blah ", 20)));
        await h.SayAsync("last one");

        var window = h.Generator.Requests[^1].Messages;
        int tokens = window.Sum(m => TokenEstimator.EstimateMessage(m.Content));
        Assert.True(tokens <= 200 - 64, $"{tokens} tokens");
        var turns = window.Skip(1).SkipLast(1).Select(m => m.Content).ToList();
        Assert.InRange(turns.Count, 1, 15);
        Assert.Equal("Nice to hear!", turns[^1]); // newest kept...
        Assert.DoesNotContain(turns, t => t.StartsWith("turn 0 ")); // ...oldest trimmed
    }

    [Fact]
    public async Task A_pending_clarification_survives_a_restart()
    {
        var clock = new Memory.FakeClock();
        var h = await DialogHarness.StartAsync(clock: clock);
        string root = h.Memory.Root;
        await h.SayAsync("remind me to call mom");
        await h.StopKeepingDataAsync();

        await using var restarted = await DialogHarness.StartAsync(root: root, clock: clock);
        Assert.Equal("dialog:confirm", (await restarted.SayAsync("at 5pm")).Final!.Source);
    }

    [Fact]
    public async Task A_pending_question_expires_after_the_configured_silence()
    {
        await using var h = await DialogHarness.StartAsync(new Dictionary<string, string?> { ["Dialog:PendingTimeoutMinutes"] = "30" });
        await h.SayAsync("remind me to call mom");
        h.Clock.Advance(TimeSpan.FromMinutes(31));
        var late = await h.SayAsync("at 5pm");
        Assert.StartsWith("lm:", late.Final!.Source);
        Assert.Contains(await h.EventsAsync(), e => e.Kind == "dialog.expired");
    }

    [Theory]
    [InlineData("Dialog:ContextTurns", "21", "Dialog:ContextTurns must be between 1 and 20")]
    [InlineData("Dialog:ContextTurns", "0", "Dialog:ContextTurns must be between 1 and 20")]
    [InlineData("Dialog:TopicSwitch", "maybe", "Dialog:TopicSwitch 'maybe' is not valid")]
    [InlineData("Dialog:MaxNewTokens", "2000", "must be smaller than Dialog:MaxContextTokens")]
    public async Task Invalid_dialog_options_are_refused_with_the_key_named(string key, string value, string message)
    {
        await using var h = await DialogHarness.StartAsync(new Dictionary<string, string?> { [key] = value });
        var ex = Assert.Throws<OptionsValidationException>(() => h.Memory.Get<IOptions<DialogOptions>>().Value);
        Assert.Contains(message, ex.Message);
    }

    [Fact]
    public void Context_assembler_trims_oldest_turns_first_and_keeps_best_memories()
    {
        var turns = Enumerable.Range(0, 10).Select(i => new Turn(i % 2 == 0 ? "user" : "assistant", $"turn {i} " + new string('x', 40), i)).ToList();
        var memories = new[] { new RecalledFact("a", "low score memory", 0.4f, 1), new RecalledFact("b", "high score memory", 0.9f, 2) };

        var full = ContextAssembler.Build("sys", "Memories:", memories, turns, "now", 10_000);
        Assert.Equal(10, full.TurnsUsed);
        Assert.Contains("high score memory", full.Messages[0].Content);

        var tight = ContextAssembler.Build("sys", "Memories:", memories, turns, "now", 60);
        Assert.True(tight.EstimatedTokens <= 60, $"{tight.EstimatedTokens}");
        Assert.True(tight.TurnsTrimmed > 0);
        var kept = tight.Messages.Skip(1).SkipLast(1).Select(m => m.Content).ToList();
        Assert.Equal(turns.TakeLast(kept.Count).Select(t => t.Text), kept);
        Assert.Equal("now", tight.Messages[^1].Content);
    }

    [Fact]
    public async Task Greetings_and_thanks_get_a_fixed_reply_in_the_users_language_not_a_generated_one()
    {
        await using var h = await DialogHarness.StartAsync();
        var hi = await h.SayAsync("hello");
        Assert.Equal("dialog:greet", hi.Final!.Source);
        Assert.StartsWith("Hi Ann! I'm MoltBot", hi.Final.Text); // the profile knows the display name
        var zh = await h.SayAsync("你好");
        Assert.StartsWith("你好Ann！我是 MoltBot", zh.Final!.Text);
        Assert.Equal("dialog:thanks", (await h.SayAsync("thanks")).Final!.Source);
        Assert.Equal("lm:student", (await h.SayAsync("how is your day")).Final!.Source);
    }
}
