using MoltBot.Contracts.Admin;
using MoltBot.Contracts.Memory;
using MoltBot.Contracts.Messaging;
using MoltBot.Memory;

namespace MoltBot.Tests.Dialog;

/// <summary>How a turn is persisted (all writes durable before the reply) and the slash-command path that skips NLU.</summary>
public class DialogTurnTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    /// <summary>Looks at storage at the moment the final reply is handed over.</summary>
    private sealed class DurabilityCheckingReply(DialogHarness h) : RecordingReply
    {
        public List<string> EventKindsAtFinal { get; } = new();
        public List<string> MessageIdsAtFinal { get; } = new();
        public DialogState? StateAtFinal { get; private set; }

        public override async ValueTask FinalAsync(Reply reply, CancellationToken cancellationToken)
        {
            EventKindsAtFinal.AddRange((await h.EventsAsync()).Select(e => e.Kind));
            MessageIdsAtFinal.AddRange((await h.Memory.Get<IConversationReader>().MessagesAsync("web:c1", 100, None)).Select(m => m.Id));
            // Read the stored document, not the cache.
            h.Memory.Get<DialogStateStore>().Cache.Remove("web:c1");
            StateAtFinal = await h.Memory.Get<IDialogStateStore>().GetAsync("web:c1", None);
            await base.FinalAsync(reply, cancellationToken);
        }
    }

    [Fact]
    public async Task The_final_reply_is_sent_only_once_the_whole_turn_is_durable()
    {
        await using var h = await DialogHarness.StartAsync();

        var reply = await h.SayAsync(new DurabilityCheckingReply(h), "remind me to call mom");

        Assert.Equal("When should I remind you?", reply.Final!.Text);
        Assert.Contains(EventKinds.MessageIn, reply.EventKindsAtFinal);
        Assert.Contains(EventKinds.MessageOut, reply.EventKindsAtFinal);
        Assert.Contains("dialog.clarify", reply.EventKindsAtFinal);
        Assert.Equal(2, reply.MessageIdsAtFinal.Count);
        Assert.Equal("datetime", reply.StateAtFinal?.PendingSlot);
        // In order: the message, the decision, the reply.
        var kinds = (await h.EventsAsync()).Select(e => e.Kind).ToList();
        Assert.True(kinds.IndexOf(EventKinds.MessageIn) < kinds.IndexOf("dialog.clarify") && kinds.IndexOf("dialog.clarify") < kinds.IndexOf(EventKinds.MessageOut));
    }

    [Fact]
    public async Task A_slash_command_names_the_skill_and_skips_NLU_and_the_embedding()
    {
        await using var h = await DialogHarness.StartAsync();
        int vectorsBefore = h.Memory.Get<VectorMemory>().Index?.Count ?? 0;

        var ask = await h.SayAsync("/weather");

        Assert.Equal("Which city?", ask.Final!.Text);
        Assert.Equal(0, h.Nlu.Calls);
        Assert.Equal(vectorsBefore, h.Memory.Get<VectorMemory>().Index?.Count ?? 0);
        // The answer to the question is ordinary text again: NLU runs, the slot is filled, the skill answers.
        var answer = await h.SayAsync("Paris");
        Assert.Equal("Sunny in Paris", answer.Final!.Text);
        Assert.Equal(1, h.Nlu.Calls);
        // Recent turns still in time order for the context window.
        var turns = await h.Memory.Get<IShortTermMemory>().RecentAsync("web:c1", 10, None);
        Assert.Equal(["/weather", "Which city?", "Paris", "Sunny in Paris"], turns.Select(t => t.Text));
    }

    [Fact]
    public async Task Unknown_commands_and_disabled_commands_go_through_NLU()
    {
        await using (var h = await DialogHarness.StartAsync())
        {
            await h.SayAsync("/nosuchskill hello");
            Assert.Equal(1, h.Nlu.Calls);
        }
        await using var off = await DialogHarness.StartAsync(new Dictionary<string, string?> { ["Dialog:SlashCommands"] = "false" });
        await off.SayAsync("/weather");
        Assert.Equal(1, off.Nlu.Calls);
    }
}
