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

    /// <summary>
    /// Light load: a lone append finds the writer idle and is committed (written and fsynced) by its caller, one frame
    /// per call as before. Under load (many concurrent appenders) the writer still groups them into shared frames,
    /// and every event is there once, in each conversation's order.
    /// </summary>
    [Fact]
    public async Task A_lone_append_is_committed_by_its_caller_and_concurrent_ones_still_share_frames()
    {
        await using var harness = await MemoryHarness.StartAsync();
        var log = harness.Get<EventLog>();
        var events = harness.Get<IEventLog>();
        long inline = log.InlineCommits, commits = log.Commits;
        for (int i = 0; i < 10; i++) await events.AppendAsync(new LoggedEvent("web:lone", "web:u", EventKinds.MessageIn, 1_000 + i, "e" + i), None);
        Assert.Equal(10, log.InlineCommits - inline);
        Assert.Equal(10, log.Commits - commits);

        commits = log.Commits;
        const int writers = 64, each = 20;
        // The appenders start while a commit is in progress (held by the test), so they meet a busy writer whatever the
        // box's fsync speed (with a fast fsync on two cores they could otherwise all find it idle, one after another),
        // and the writer must group what queued behind the commit.
        var hold = await log.HoldCommitsAsync();
        var appenders = Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            for (int i = 0; i < each; i++)
                await events.AppendAsync(new LoggedEvent("web:c" + w, "web:u", EventKinds.MessageIn, 2_000 + i, $"{w}:{i}"), None);
        })).ToList();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (log.QueuedRequests < 2 && DateTime.UtcNow < deadline) await Task.Yield();
        hold.Dispose();
        await Task.WhenAll(appenders);
        Assert.True(log.Commits - commits < writers * each, $"{log.Commits - commits} frames for {writers * each} concurrent appends: none shared");
        for (int w = 0; w < writers; w++)
        {
            var texts = (await events.RangeAsync("web:c" + w, 0, long.MaxValue, 100, None)).Select(e => e.Text);
            Assert.Equal(Enumerable.Range(0, each).Select(i => $"{w}:{i}"), texts);
        }
        Assert.Equal(["e0", "e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9"],
            (await events.RangeAsync("web:lone", 0, long.MaxValue, 100, None)).Select(e => e.Text));
    }
}
