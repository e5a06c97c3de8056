using System.Text.Json;
using LiteDB;
using MoltBot.Contracts.Admin;
using MoltBot.Contracts.Memory;
using MoltBot.Memory;
using MoltBot.Memory.Storage;

namespace MoltBot.Tests.Memory;

/// <summary>
/// A turn (user message + reply, same conversation and user) is one LiteDB document: history, export, deletion, the
/// duplicate check and the start-up replay still see two messages, each once; documents of one message (files from
/// before, a user message recorded alone) are read alongside.
/// </summary>
public class TurnDocumentTests
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly HashEmbedder Embedder = new();
    private const string Conv = "web:c-turns";
    private const string User = "web:turner";

    // Every turn written at once as its own document (no held buckets: BucketTests covers those).
    internal static readonly Dictionary<string, string?> TurnsAtOnce = new() { ["Memory:ConversationFlushMilliseconds"] = "0" };

    // Recent timestamps: the event log's retention (Memory:EventRetentionDays) drops old events at start.
    private static readonly long T0 = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000 * 1000;

    private static ConversationMessage In(string id, long ts, string user = User) =>
        new(id, Conv, user, "in", $"question {id} about topic {ts % 7}", T0 + ts) { Intent = "greet", Language = "en", Embedding = Embedder.Embed($"question {id} about topic {ts % 7}") };

    private static ConversationMessage Out(string id, long ts, string user = User) =>
        new(id + ":out", Conv, user, "out", $"answer to {id}", T0 + ts) { Language = "de" };

    private static Task Turn(MemoryHarness harness, string id, long ts) =>
        harness.Get<ITurnRecorder>().RecordTurnAsync(In(id, ts), [], Out(id, ts + 1), None).AsTask();

    private static async Task<List<MessageDoc>> DocumentsAsync(MemoryHarness harness)
    {
        await harness.Get<GroupCommitWriter>().WhenWrittenAsync(None); // LiteDB is written behind the acknowledgement
        return harness.Get<MemoryDatabase>().Db.GetCollection<MessageDoc>(Collections.Messages).FindAll().ToList();
    }

    private static int CountOf(MemoryHarness harness) =>
        harness.Get<MemoryDatabase>().Db.GetCollection<ConversationDoc>(Collections.Conversations).FindById(Conv).MessageCount;

    [Fact]
    public async Task A_turn_is_one_document_that_history_export_and_deletion_read_as_two_messages()
    {
        await using var harness = await MemoryHarness.StartAsync(settings: TurnsAtOnce);
        for (int i = 0; i < 3; i++) await Turn(harness, "t" + i, 1_000 + 10 * i);

        var docs = await DocumentsAsync(harness);
        Assert.Equal(3, docs.Count);
        var first = docs.Single(d => d.Id == "t0");
        Assert.Equal(("t0:out", "answer to t0", 1_001L, "de"), (first.ReplyId, first.ReplyText, first.ReplyTs - T0, first.ReplyLanguage));
        Assert.Equal(6, CountOf(harness));

        var history = await harness.Get<IConversationReader>().MessagesAsync(Conv, 10, None);
        Assert.Equal(["t0", "t0:out", "t1", "t1:out", "t2", "t2:out"], history.Select(m => m.Id));
        Assert.Equal(["in", "out", "in", "out", "in", "out"], history.Select(m => m.Direction));
        Assert.Equal([1_000L, 1_001, 1_010, 1_011, 1_020, 1_021], history.Select(m => m.TimestampMs - T0));
        Assert.All(history, m => Assert.Equal(User, m.UserKey));
        Assert.Equal(["t2", "t2:out"], (await harness.Get<IConversationReader>().MessagesAsync(Conv, 2, None)).Select(m => m.Id));
        var listed = Assert.Single(await harness.Get<IConversationReader>().ListAsync(0, 10, None));
        Assert.Equal((6, 1_021L), (listed.MessageCount, listed.LastActivityMs - T0));

        using var export = JsonDocument.Parse(await harness.Get<UserDataRights>().ExportJsonAsync(User, None));
        var exported = export.RootElement.GetProperty("messages").EnumerateArray().ToList();
        Assert.Equal(["t0", "t0:out", "t1", "t1:out", "t2", "t2:out"], exported.Select(m => m.GetProperty("id").GetString()));
        Assert.Equal("answer to t1", exported[3].GetProperty("text").GetString());
        Assert.Equal(("out", "de"), (exported[3].GetProperty("direction").GetString(), exported[3].GetProperty("language").GetString()));
        Assert.Equal(("greet", "en"), (exported[2].GetProperty("intent").GetString(), exported[2].GetProperty("language").GetString()));

        // 6 messages + 1 conversation + 3 vectors, and the event log's 6 message events.
        Assert.Equal(6, harness.Get<EventLog>().ForUser(User).Count);
        int removed = await harness.Get<UserDataRights>().DeleteAsync(User, None);
        Assert.Equal(6 + 1 + 3 + 6, removed);
        Assert.Empty(await DocumentsAsync(harness));
        Assert.Empty(await harness.Get<IConversationReader>().MessagesAsync(Conv, 10, None));
    }

    [Fact]
    public async Task Documents_of_one_message_from_before_read_alongside_turns_and_a_redelivery_is_stored_once()
    {
        string root = Directory.CreateTempSubdirectory("moltbot-turn-test").FullName;
        {
            // What earlier versions wrote for every turn (and this one for a user message recorded alone): a document per message.
            var old = await MemoryHarness.StartAsync(root, TurnsAtOnce);
            await old.Get<IConversationStore>().RecordMessageAsync(In("a", 1_000), None);
            await old.Get<IConversationStore>().RecordMessageAsync(Out("a", 1_001), None);
            await old.RestartableStopAsync();
        }
        await using var harness = await MemoryHarness.StartAsync(root, TurnsAtOnce);
        await Turn(harness, "b", 2_000);
        // A redelivered turn, and a turn whose user message is stored already (recorded alone when a decision failed).
        await Turn(harness, "b", 2_000);
        await Turn(harness, "a", 1_000);
        await harness.Get<IConversationStore>().RecordMessageAsync(In("c", 3_000), None);
        await Turn(harness, "c", 3_000);

        var docs = await DocumentsAsync(harness);
        Assert.Equal(["a", "a:out", "b", "c", "c:out"], docs.Select(d => d.Id).Order(StringComparer.Ordinal));
        Assert.Equal("b:out", docs.Single(d => d.Id == "b").ReplyId);
        Assert.All(docs.Where(d => d.Id != "b"), d => Assert.Null(d.ReplyId));
        Assert.Equal(6, CountOf(harness));
        Assert.Equal(0, harness.Get<GroupCommitWriter>().Failures);
        var history = await harness.Get<IConversationReader>().MessagesAsync(Conv, 10, None);
        Assert.Equal(["a", "a:out", "b", "b:out", "c", "c:out"], history.Select(m => m.Id));

        int events = harness.Get<EventLog>().ForUser(User).Count; // the event log keeps every append, redeliveries included
        int removed = await harness.Get<UserDataRights>().DeleteAsync(User, None);
        Assert.Equal(6 + 1 + 3 + events, removed); // messages, conversation, vectors (a, b, c), events
        Assert.Empty(await DocumentsAsync(harness));
    }

    [Fact]
    public async Task Turns_LiteDB_kept_are_not_replayed_again_and_turns_it_lost_come_back_once()
    {
        string root = Directory.CreateTempSubdirectory("moltbot-turn-test").FullName;
        string dbFile;
        {
            var first = await MemoryHarness.StartAsync(root, TurnsAtOnce);
            dbFile = first.DatabaseFile;
            for (int i = 0; i < 6; i++) await Turn(first, "r" + i, 1_000 + 10 * i);
            await first.RestartableStopAsync();
        }
        // LiteDB kept every turn but the replay mark is gone (as if it never got past them): all six frames are replayed.
        using (var raw = new LiteDatabase($"Filename={dbFile}"))
        {
            Assert.Equal(1, raw.GetCollection(Collections.Meta).DeleteAll());
        }
        {
            var second = await MemoryHarness.StartAsync(root, TurnsAtOnce);
            Assert.Equal((0, 0), second.Get<LogReplay>().Restored);
            Assert.Equal(6, (await DocumentsAsync(second)).Count);
            Assert.Equal(12, CountOf(second));
            await second.RestartableStopAsync();
        }
        // LiteDB lost everything: both messages of every turn come back once (as documents of one message), with the vectors.
        File.Delete(dbFile);
        File.Delete(Path.Combine(Path.GetDirectoryName(dbFile)!, "moltbot-log.db"));
        {
            var third = await MemoryHarness.StartAsync(root, TurnsAtOnce);
            Assert.Equal((12, 6), third.Get<LogReplay>().Restored);
            await third.RestartableStopAsync();
        }
        await using var fourth = await MemoryHarness.StartAsync(root, TurnsAtOnce);
        Assert.Equal((0, 0), fourth.Get<LogReplay>().Restored);
        Assert.Equal(12, CountOf(fourth));
        var history = await fourth.Get<IConversationReader>().MessagesAsync(Conv, 20, None);
        Assert.Equal(Enumerable.Range(0, 6).SelectMany(i => new[] { "r" + i, "r" + i + ":out" }), history.Select(m => m.Id));
        Assert.Equal(6, fourth.Get<MemoryDatabase>().Db.GetCollection<VectorDoc>(Collections.Vectors).Count());
    }

    [Fact]
    public async Task A_reply_whose_user_message_lies_before_the_replay_window_is_found_inside_its_turn()
    {
        await using var harness = await MemoryHarness.StartAsync(settings: TurnsAtOnce);
        await Turn(harness, "w", 1_000);
        await harness.Get<IConversationStore>().RecordMessageAsync(Out("alone", 1_100), None);
        await harness.Get<GroupCommitWriter>().WhenWrittenAsync(None);
        var db = harness.Get<MemoryDatabase>().Db;
        // The replay reads the conversation's ids once: a reply inside its turn document is among them.
        var ids = LogReplay.StoredIds(db, Conv, new Dictionary<string, HashSet<string>>());
        Assert.Contains("w:out", ids);
        Assert.Contains("alone:out", ids);
        Assert.DoesNotContain("x:out", ids);
        Assert.Equal(3, ids.Count);
    }
}
