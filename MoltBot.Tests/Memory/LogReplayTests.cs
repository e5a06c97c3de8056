using LiteDB;
using MoltBot.Contracts.Memory;
using MoltBot.Memory;
using MoltBot.Memory.Storage;

namespace MoltBot.Tests.Memory;

/// <summary>The event log is the source of truth for messages: LiteDB behind it is brought up to it at start.</summary>
public class LogReplayTests
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly HashEmbedder Embedder = new();

    private static ConversationMessage Message(int i, string user = "web:u1") =>
        new("m" + i, "web:c-" + user, user, i % 2 == 0 ? "in" : "out", $"message number {i} about topic {i % 7}", 1_000 + i)
        {
            Intent = i % 2 == 0 ? "greet" : null,
            Language = "en",
            Embedding = i % 2 == 0 ? Embedder.Embed($"message number {i} about topic {i % 7}") : null,
        };

    [Fact]
    public async Task LiteDB_that_lost_acknowledged_messages_is_brought_up_to_the_event_log_at_start_without_duplicates()
    {
        string root = Directory.CreateTempSubdirectory("moltbot-replay-test").FullName;
        string dbFile;
        {
            var first = await MemoryHarness.StartAsync(root); // stopped below, keeping the data
            dbFile = first.DatabaseFile;
            var store = first.Get<IConversationStore>();
            for (int i = 0; i < 20; i++) await store.RecordMessageAsync(Message(i), None);
            await first.RestartableStopAsync();
        }
        // What LiteDB held after the first run (its commits since are "lost", as after a kill before they reached disk).
        byte[] behind = await File.ReadAllBytesAsync(dbFile);

        {
            var second = await MemoryHarness.StartAsync(root); // stopped below, keeping the data
            var store = second.Get<IConversationStore>();
            for (int i = 20; i < 50; i++) await store.RecordMessageAsync(Message(i), None);
            await second.RestartableStopAsync();
        }
        // The newer vector snapshot stays: its ids for the lost documents must not be reused for other vectors.
        await File.WriteAllBytesAsync(dbFile, behind);
        File.Delete(Path.Combine(Path.GetDirectoryName(dbFile)!, "moltbot-log.db"));

        {
            var third = await MemoryHarness.StartAsync(root); // stopped below, keeping the data
            Assert.Equal((30, 15), third.Get<LogReplay>().Restored);
            AssertEverythingOnce(third, 50);
            await third.RestartableStopAsync();
        }
        await using var fourth = await MemoryHarness.StartAsync(root);
        Assert.Equal((0, 0), fourth.Get<LogReplay>().Restored);
        AssertEverythingOnce(fourth, 50);
    }

    private static void AssertEverythingOnce(MemoryHarness harness, int count)
    {
        var db = harness.Get<MemoryDatabase>().Db;
        var messages = db.GetCollection<MessageDoc>(Collections.Messages).FindAll().ToList();
        Assert.Equal(Enumerable.Range(0, count).Select(i => "m" + i).Order(), messages.Select(m => m.Id).Order());
        var m42 = messages.Single(m => m.Id == "m42");
        Assert.Equal(("in", "web:c-web:u1", "web:u1", 1_042L, "greet", "en"), (m42.Direction, m42.Conv, m42.User, m42.Ts, m42.Intent, m42.Language));
        Assert.Equal("message number 42 about topic 0", m42.Text);

        var conversation = db.GetCollection<ConversationDoc>(Collections.Conversations).FindById("web:c-web:u1");
        Assert.Equal(count, conversation.MessageCount);
        Assert.Equal(1_000 + count - 1, conversation.LastActivityMs);

        var vectors = db.GetCollection<VectorDoc>(Collections.Vectors).FindAll().ToList();
        var inbound = Enumerable.Range(0, count).Where(i => i % 2 == 0).Select(i => "m" + i).Order().ToList();
        Assert.Equal(inbound, vectors.Select(v => v.RefId).Order());
        Assert.Equal(vectors.Count, vectors.Select(v => v.Id).Distinct().Count());

        // Vector recall holds exactly LiteDB's vectors, each under its own id, and finds every message by meaning.
        var memory = harness.Get<VectorMemory>();
        Assert.Equal(vectors.Select(v => v.Id).Order(), memory.Index!.Ids().Order());
        foreach (var v in vectors)
        {
            var indexed = memory.Index.GetVector(v.Id)!;
            Assert.All(VectorDoc.Unpack(v.Vector).Zip(indexed), p => Assert.Equal(p.First, p.Second, 1e-6f)); // renormalizing rounds
        }
        foreach (string id in inbound)
        {
            int i = int.Parse(id[1..]);
            var hits = memory.Search("web:u1", Embedder.Embed($"message number {i} about topic {i % 7}"), 1);
            Assert.Equal(id, Assert.Single(hits).Doc.RefId);
        }
    }

    [Fact]
    public async Task The_replay_mark_follows_the_log_and_moves_back_to_its_segment_start_before_a_rewrite()
    {
        await using var harness = await MemoryHarness.StartAsync();
        var store = harness.Get<IConversationStore>();
        var log = harness.Get<EventLog>();
        var mark = harness.Get<ReplayMark>();
        for (int i = 0; i < 10; i++) await store.RecordMessageAsync(Message(i, i % 2 == 0 ? "web:u1" : "web:u2"), None);

        await log.AdvanceReplayMarkAsync(None);
        var advanced = mark.Load(); // what LiteDB stores
        Assert.Equal(log.End, advanced);
        Assert.True(advanced.Offset > 0);

        await harness.Get<UserDataRights>().DeleteAsync("web:u2", None);

        var rewound = mark.Load();
        Assert.Equal(new EventPosition(advanced.Segment, 0), rewound);
        await store.RecordMessageAsync(Message(10), None);
        await log.AdvanceReplayMarkAsync(None);
        Assert.Equal(log.End, mark.Load());
        Assert.True(log.End.Segment > advanced.Segment); // the rewrite rolled the active segment
    }

    [Fact]
    public async Task A_message_whose_embedding_the_index_cannot_hold_is_still_recorded_and_replayed_without_it()
    {
        string root = Directory.CreateTempSubdirectory("moltbot-replay-test").FullName;
        var first = await MemoryHarness.StartAsync(root);
        var store = first.Get<IConversationStore>();
        await store.RecordMessageAsync(Message(0), None); // the index now holds 256-d vectors
        var odd = new ConversationMessage("odd", "web:c-web:u1", "web:u1", "in", "from another encoder", 5_000) { Embedding = new float[64] };
        odd.Embedding![0] = 1;

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => store.RecordMessageAsync(odd, None).AsTask());

        Assert.Contains("dimensions", ex.Message);
        // LiteDB is written behind the acknowledgement (Memory:DatabaseWriteBehind): a raw read waits for the queue.
        await first.Get<GroupCommitWriter>().WhenWrittenAsync(None);
        Assert.NotNull(first.Get<MemoryDatabase>().Db.GetCollection<MessageDoc>(Collections.Messages).FindById(MessageKey.For("web:c-web:u1", "odd")));
        string dbFile = first.DatabaseFile;
        await first.RestartableStopAsync();
        // LiteDB loses everything; the replay brings the messages back, this one without a vector, and start-up goes on.
        File.Delete(dbFile);

        await using var second = await MemoryHarness.StartAsync(root);
        var db = second.Get<MemoryDatabase>().Db;
        Assert.NotNull(db.GetCollection<MessageDoc>(Collections.Messages).FindById(MessageKey.For("web:c-web:u1", "odd")));
        Assert.Equal(["m0"], db.GetCollection<VectorDoc>(Collections.Vectors).FindAll().Select(v => v.RefId));
    }
}
