using MoltBot.Contracts.Admin;
using MoltBot.Contracts.Memory;
using MoltBot.Memory.Storage;

namespace MoltBot.Tests.Memory;

/// <summary>
/// The group-commit writer keeps the conversation documents it committed, so a turn's batch updates its conversation
/// without reading it back. Whatever the writer did not commit itself must not survive in that cache: a failed
/// transaction (its documents were changed in place) and a raw write (user deletion) start it over.
/// </summary>
public class WriterConversationCacheTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static ConversationMessage Message(string id, string user, long ts) => new(id, "web:a", user, "in", "hello " + id, ts);

    [Fact]
    public async Task Counters_stay_right_across_batches_a_failed_transaction_and_a_user_deletion()
    {
        await using var harness = await MemoryHarness.StartAsync();
        var writer = harness.Get<GroupCommitWriter>();
        var store = harness.Get<IConversationStore>();
        var conversations = harness.Get<MemoryDatabase>().Collection<ConversationDoc>(Collections.Conversations);

        for (int i = 1; i <= 3; i++)
        {
            await store.RecordMessageAsync(Message("m" + i, "web:alice", 1_000 + i), None);
            await writer.WhenWrittenAsync(None);
        }
        Assert.Equal(3, conversations.FindById("web:a").MessageCount);

        // A write that changes the cached document and then fails: its change must not reach the next batch.
        var failed = await writer.EnqueueAsync((WriteBatch batch) =>
        {
            batch.Conversation("web:a", () => new ConversationDoc { Id = "web:a" }).MessageCount += 100;
            throw new InvalidOperationException("fails after changing the conversation");
        }, checkpoint: false, None);
        await Assert.ThrowsAsync<InvalidOperationException>(() => failed);
        await store.RecordMessageAsync(Message("m4", "web:alice", 1_004), None);
        await writer.WhenWrittenAsync(None);
        Assert.Equal(4, conversations.FindById("web:a").MessageCount);

        // The user's deletion removes the conversation with a raw write; the next message starts it again from zero.
        await harness.Get<IUserDataRights>().DeleteAsync("web:alice", None);
        Assert.Null(conversations.FindById("web:a"));
        await store.RecordMessageAsync(Message("b1", "web:bob", 2_000), None);
        await writer.WhenWrittenAsync(None);
        var restarted = conversations.FindById("web:a");
        Assert.Equal(1, restarted.MessageCount);
        Assert.Equal("web:bob", restarted.User);
        Assert.Equal(2_000, restarted.StartedMs);
    }
}
