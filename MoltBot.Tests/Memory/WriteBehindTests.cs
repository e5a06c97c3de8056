using MoltBot.Contracts.Admin;
using MoltBot.Contracts.Memory;
using MoltBot.Memory;
using MoltBot.Memory.Storage;

namespace MoltBot.Tests.Memory;

/// <summary>
/// Memory:DatabaseWriteBehind: a message is acknowledged once the event log fsynced it, dialog state and profiles
/// once cached and queued; LiteDB commits behind. The tests hold LiteDB's single writer on a gate, so "behind" is
/// certain, and check that every read still sees its own writes.
/// </summary>
public class WriteBehindTests
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(30); // only so a broken build cannot hang the run


    /// <summary>Waits until at least <paramref name="count"/> writes are queued behind the held writer.</summary>
    private static async Task WaitForQueuedWritesAsync(GroupCommitWriter writer, int count)
    {
        var deadline = DateTime.UtcNow + Hang;
        while (writer.QueuedWrites < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{writer.QueuedWrites} writes queued, expected {count}");
            await Task.Delay(5);
        }
    }

    [Fact]
    public async Task Writes_are_acknowledged_while_LiteDB_is_busy_and_reads_wait_for_them()
    {
        await using var harness = await MemoryHarness.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Memory:DialogStateCacheCapacity"] = "1",
            ["Memory:ProfileCacheCapacity"] = "1",
        });
        var writer = harness.Get<GroupCommitWriter>();
        var store = harness.Get<IConversationStore>();
        var states = harness.Get<IDialogStateStore>();
        var profiles = harness.Get<IUserProfileStore>();
        var gate = await WriterGate.HoldAsync(writer);
        try
        {
            // Acknowledged although LiteDB cannot commit anything: the event log has the message.
            await store.RecordMessageAsync(new ConversationMessage("m1", "web:a", "web:u1", "in", "hello there", 1_000), None).AsTask().WaitAsync(Hang);
            await states.SaveAsync(new DialogState("web:a", "web:u1") { ActiveIntent = "weather_query", UpdatedMs = 1_001 }, None).AsTask().WaitAsync(Hang);
            await profiles.SaveAsync(new UserProfile("web:u1") { City = "Lisbon", UpdatedMs = 1_001 }, None).AsTask().WaitAsync(Hang);
            Assert.Single(await harness.Get<IEventLog>().RangeAsync("web:a", 0, long.MaxValue, 10, None));
            Assert.Equal("hello there", Assert.Single(await harness.Get<IShortTermMemory>().RecentAsync("web:a", 5, None)).Text);

            // The cache answers its own writes; a second conversation and user evict them (capacity 1).
            Assert.Equal("weather_query", (await states.GetAsync("web:a", None))?.ActiveIntent);
            await states.SaveAsync(new DialogState("web:b", "web:u2") { ActiveIntent = "time_query", UpdatedMs = 1_002 }, None).AsTask().WaitAsync(Hang);
            await profiles.SaveAsync(new UserProfile("web:u2") { City = "Oslo", UpdatedMs = 1_002 }, None).AsTask().WaitAsync(Hang);

            // Reads that go to LiteDB wait for the queued writes instead of returning what LiteDB has now (nothing).
            int queued = writer.QueuedWrites;
            var evictedState = states.GetAsync("web:a", None).AsTask();
            var evictedProfile = profiles.GetAsync("web:u1", None).AsTask();
            var messages = harness.Get<IConversationReader>().MessagesAsync("web:a", 10, None);
            await WaitForQueuedWritesAsync(writer, queued + 3); // each read queued its barrier behind the held writer
            Assert.False(evictedState.IsCompleted, "a state read went to LiteDB before the queued state was committed");
            Assert.False(evictedProfile.IsCompleted, "a profile read went to LiteDB before the queued profile was committed");
            Assert.False(messages.IsCompleted, "the message table was read before the queued message was committed");

            gate.Set();
            Assert.Equal("weather_query", (await evictedState.WaitAsync(Hang))?.ActiveIntent);
            Assert.Equal("Lisbon", (await evictedProfile.WaitAsync(Hang)).City);
            Assert.Equal("hello there", Assert.Single(await messages.WaitAsync(Hang)).Text);
        }
        finally
        {
            gate.Set();
        }
    }

    [Fact]
    public async Task A_recalled_message_vector_is_indexed_before_recall_returns()
    {
        await using var harness = await MemoryHarness.StartAsync();
        var embedder = new HashEmbedder();
        var gate = await WriterGate.HoldAsync(harness.Get<GroupCommitWriter>());
        try
        {
            await harness.Get<IConversationStore>().RecordMessageAsync(new ConversationMessage("m1", "web:a", "web:u1", "in", "my cat is called Miso", 1_000)
            {
                Embedding = await embedder.EmbedAsync("my cat is called Miso", None),
            }, None).AsTask().WaitAsync(Hang);
            var writer = harness.Get<GroupCommitWriter>();
            int queued = writer.QueuedWrites;
            var recall = harness.Get<IFactMemory>().RecallAsync("web:u1", "my cat is called Miso", 3, None);
            await WaitForQueuedWritesAsync(writer, queued + 1);
            Assert.False(recall.IsCompleted, "recall searched before the queued message vector was stored");
            gate.Set();
            var hit = Assert.Single(await recall.WaitAsync(Hang));
            Assert.Equal("my cat is called Miso", hit.Text);
        }
        finally
        {
            gate.Set();
        }
    }

    [Fact]
    public async Task Without_write_behind_a_save_waits_for_its_LiteDB_commit()
    {
        await using var harness = await MemoryHarness.StartAsync(settings: new Dictionary<string, string?> { ["Memory:DatabaseWriteBehind"] = "false" });
        var gate = await WriterGate.HoldAsync(harness.Get<GroupCommitWriter>());
        try
        {
            var writer = harness.Get<GroupCommitWriter>();
            int queued = writer.QueuedWrites;
            var save = harness.Get<IDialogStateStore>().SaveAsync(new DialogState("web:a", "web:u1") { ActiveIntent = "weather_query" }, None).AsTask();
            var record = harness.Get<IConversationStore>().RecordMessageAsync(new ConversationMessage("m1", "web:a", "web:u1", "in", "hi", 1_000), None).AsTask();
            await WaitForQueuedWritesAsync(writer, queued + 2);
            Assert.False(save.IsCompleted);
            Assert.False(record.IsCompleted);
            gate.Set();
            await Task.WhenAll(save, record).WaitAsync(Hang);
        }
        finally
        {
            gate.Set();
        }
    }
}
