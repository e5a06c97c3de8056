using MoltBot.Contracts.Memory;
using MoltBot.Memory.Storage;

namespace MoltBot.Tests.Memory;

/// <summary>
/// A message id LiteDB already holds (a redelivery, a replayed pending message) is stored and counted once. In a group
/// commit the message is inserted without a look-up; the primary key's duplicate-key error rolls the group back and
/// the writer replays its writes one per transaction with look-ups. LiteDB's writer is held on a gate so the writes
/// are certain to share one group.
/// </summary>
public class DuplicateMessageTests
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(30); // only so a broken build cannot hang the run


    private static ConversationMessage Message(string id, string conv, string text, long ts) =>
        new(id, conv, "web:u", "in", text, ts);

    [Fact]
    public async Task Distinct_messages_queued_together_commit_in_one_transaction()
    {
        await using var harness = await MemoryHarness.StartAsync();
        var writer = harness.Get<GroupCommitWriter>();
        var store = harness.Get<IConversationStore>();
        var gate = await WriterGate.HoldAsync(writer);
        long commitsBefore;
        try
        {
            commitsBefore = writer.Commits;
            for (int i = 0; i < 10; i++) await store.RecordMessageAsync(Message("d" + i, "web:d", "hello " + i, 1_000 + i), None).AsTask().WaitAsync(Hang);
        }
        finally
        {
            gate.Set();
        }
        await writer.WhenWrittenAsync(None).AsTask().WaitAsync(Hang);

        // The held write's own commit, then one for the ten messages; a failed group would be replayed one write per
        // transaction (ten more commits). The bound leaves room for a background write of another service landing in
        // between (CI saw 3 commits once).
        long commits = writer.Commits - commitsBefore;
        Assert.True(commits < 10, $"{commits} commits: the ten messages were committed one by one, not as a group");
        Assert.Equal(0, writer.Failures);
        var db = harness.Get<MemoryDatabase>();
        Assert.Equal(10, db.Collection<MessageDoc>(Collections.Messages).Count());
        Assert.Equal(10, db.Collection<ConversationDoc>(Collections.Conversations).FindById("web:d").MessageCount);
    }

    [Fact]
    public async Task A_repeated_message_id_is_stored_and_counted_once_inside_a_group_and_alone()
    {
        await using var harness = await MemoryHarness.StartAsync();
        var writer = harness.Get<GroupCommitWriter>();
        var store = harness.Get<IConversationStore>();
        var db = harness.Get<MemoryDatabase>();

        // Alone: the id is already committed, the repeat is a batch of its own.
        await store.RecordMessageAsync(Message("m0", "web:a", "first", 1_000), None);
        await writer.WhenWrittenAsync(None);
        await store.RecordMessageAsync(Message("m0", "web:a", "first", 1_000), None);
        await writer.WhenWrittenAsync(None);
        Assert.Equal(1, db.Collection<ConversationDoc>(Collections.Conversations).FindById("web:a").MessageCount);

        // In one group: the first copy, other conversations' messages, the repeat, and one more message after it.
        var gate = await WriterGate.HoldAsync(writer);
        try
        {
            await store.RecordMessageAsync(Message("m1", "web:a", "second", 1_001), None).AsTask().WaitAsync(Hang);
            await store.RecordMessageAsync(Message("x1", "web:b", "other", 1_002), None).AsTask().WaitAsync(Hang);
            await store.RecordMessageAsync(Message("m1", "web:a", "second", 1_001), None).AsTask().WaitAsync(Hang);
            await store.RecordMessageAsync(Message("m0", "web:a", "first", 1_000), None).AsTask().WaitAsync(Hang);
            await store.RecordMessageAsync(Message("m2", "web:a", "third", 1_003), None).AsTask().WaitAsync(Hang);
        }
        finally
        {
            gate.Set();
        }
        await writer.WhenWrittenAsync(None).AsTask().WaitAsync(Hang);

        Assert.Equal(0, writer.Failures); // the repeats were skipped, not failed (a failure would stop the replay mark)
        var messages = db.Collection<MessageDoc>(Collections.Messages).FindAll().Select(m => m.Id).Order().ToList();
        Assert.Equal(["m0", "m1", "m2", "x1"], messages);
        var conversations = db.Collection<ConversationDoc>(Collections.Conversations);
        Assert.Equal(3, conversations.FindById("web:a").MessageCount);
        Assert.Equal(1_003, conversations.FindById("web:a").LastActivityMs);
        Assert.Equal(1, conversations.FindById("web:b").MessageCount);
        Assert.Equal(["first", "second", "third"], (await harness.Get<MoltBot.Contracts.Admin.IConversationReader>().MessagesAsync("web:a", 10, None)).Select(m => m.Text));
    }
}
