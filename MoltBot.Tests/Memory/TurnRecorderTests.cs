using MoltBot.Contracts.Admin;
using MoltBot.Contracts.Memory;
using MoltBot.Memory;

namespace MoltBot.Tests.Memory;

/// <summary>A whole turn (user message, dialog events, reply) goes into the event log as one frame: one fsync.</summary>
public class TurnRecorderTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task A_turn_is_one_event_log_commit_in_order_and_both_messages_are_stored()
    {
        await using var harness = await MemoryHarness.StartAsync();
        var log = harness.Get<EventLog>();
        var recorder = harness.Get<ITurnRecorder>();
        long before = log.Commits;
        await recorder.RecordTurnAsync(
            new ConversationMessage("t1", "web:a", "web:u", "in", "what time is it in Tokyo?", 1_000) { Intent = "time_query" },
            [
                new LoggedEvent("web:a", "web:u", EventKinds.DialogPrefix + "intent", 1_000, "time_query"),
                new LoggedEvent("web:a", "web:u", EventKinds.DialogPrefix + "skill", 1_000, "time_query", "{\"skill\":\"time\"}"),
            ],
            new ConversationMessage("t1:out", "web:a", "web:u", "out", "It is 09:00 in Tokyo.", 1_001), None);

        Assert.Equal(before + 1, log.Commits);
        var events = await harness.Get<IEventLog>().RangeAsync("web:a", 0, long.MaxValue, 10, None);
        Assert.Equal([EventKinds.MessageIn, EventKinds.DialogPrefix + "intent", EventKinds.DialogPrefix + "skill", EventKinds.MessageOut], events.Select(e => e.Kind));
        var messages = await harness.Get<IConversationReader>().MessagesAsync("web:a", 10, None);
        Assert.Equal(["what time is it in Tokyo?", "It is 09:00 in Tokyo."], messages.Select(m => m.Text));
        Assert.Equal(["user", "assistant"], (await harness.Get<IShortTermMemory>().RecentAsync("web:a", 5, None)).Select(t => t.Role));
    }
}
