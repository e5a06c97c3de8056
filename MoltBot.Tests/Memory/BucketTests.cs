using System.Text.Json;
using LiteDB;
using MoltBot.Contracts.Admin;
using MoltBot.Contracts.Memory;
using MoltBot.Memory;
using MoltBot.Memory.Storage;

namespace MoltBot.Tests.Memory;

/// <summary>
/// Turns held by the LiteDB writer are written as one document per conversation, a bucket (<see cref="TurnBuckets"/>):
/// history, the conversation list, export and deletion read a bucket as its messages; a redelivered message is stored
/// once whether it is held, inside a stored bucket or stored before a restart; turn and single documents from before
/// are read alongside; a bucket is bounded. Real LiteDB files.
/// </summary>
public class BucketTests
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly HashEmbedder Embedder = new();
    private const string Conv = "web:c-buckets";
    private const string Alice = "web:alice-b";
    private const string Bob = "web:bob-b";

    // Held until a read, a raw write or the stop writes them (never by the interval within a test).
    private static readonly Dictionary<string, string?> Held = new() { ["Memory:ConversationFlushMilliseconds"] = "10000" };

    // Recent timestamps: the event log's retention (Memory:EventRetentionDays) drops old events at start.
    private static readonly long T0 = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000 * 1000;

    private static ConversationMessage In(string id, long ts, string user = Alice, string conv = Conv, string? text = null) =>
        new(id, conv, user, "in", text ?? $"question {id}", T0 + ts) { Intent = "greet", Language = "en", Embedding = Embedder.Embed($"question {id}") };

    private static ConversationMessage Out(string id, long ts, string user = Alice, string conv = Conv) =>
        new(id + ":out", conv, user, "out", $"answer to {id}", T0 + ts) { Language = "de" };

    private static Task Turn(MemoryHarness harness, string id, long ts, string user = Alice, string conv = Conv, string? text = null) =>
        harness.Get<ITurnRecorder>().RecordTurnAsync(In(id, ts, user, conv, text), [], Out(id, ts + 1, user, conv), None).AsTask();

    private static List<MessageDoc> Documents(MemoryHarness harness) =>
        harness.Get<MemoryDatabase>().Db.GetCollection<MessageDoc>(Collections.Messages).FindAll().ToList();

    private static async Task<List<MessageDoc>> WrittenDocumentsAsync(MemoryHarness harness)
    {
        await harness.Get<GroupCommitWriter>().WhenWrittenAsync(None);
        return Documents(harness);
    }

    // Once the writer committed what was queued so far (a write nobody waits for, so nothing held is written for it).
    private static async Task CommittedAsync(MemoryHarness harness) =>
        await await harness.Get<GroupCommitWriter>().EnqueueAsync((WriteBatch _) => { }, checkpoint: false, None);

    private static int CountOf(MemoryHarness harness, string conv = Conv) =>
        harness.Get<MemoryDatabase>().Db.GetCollection<ConversationDoc>(Collections.Conversations).FindById(conv).MessageCount;

    private static IEnumerable<string> TurnIds(params string[] ids) => ids.SelectMany(id => new[] { id, id + ":out" });

    [Fact]
    public async Task Held_turns_are_written_as_one_bucket_per_conversation_that_history_the_list_and_export_read_as_messages()
    {
        await using var harness = await MemoryHarness.StartAsync(settings: Held);
        for (int i = 0; i < 5; i++) await Turn(harness, "t" + i, 1_000 + 10 * i);
        for (int i = 0; i < 2; i++) await Turn(harness, "o" + i, 2_000 + 10 * i, conv: "web:c-other");

        // Acknowledged (the event log has them; LiteDB is written behind): once the writer committed them (a write
        // nobody waits for, so nothing is written out for it), held, not in LiteDB yet.
        await CommittedAsync(harness);
        Assert.Equal(7, harness.Get<GroupCommitWriter>().Buckets!.HeldTurns);
        Assert.Empty(Documents(harness));

        var docs = await WrittenDocumentsAsync(harness); // a read barrier writes them
        Assert.Equal(2, docs.Count);
        var bucket = docs.Single(d => d.Conv == Conv);
        Assert.Equal(("t0", "t0:out", 4), (bucket.Id, bucket.ReplyId, bucket.More!.Count));
        Assert.Equal(MessageKey.For(Conv, "t0"), bucket.Key);
        Assert.Equal(0, harness.Get<GroupCommitWriter>().Buckets!.HeldTurns);

        var reader = harness.Get<IConversationReader>();
        var history = await reader.MessagesAsync(Conv, 20, None);
        Assert.Equal(TurnIds("t0", "t1", "t2", "t3", "t4"), history.Select(m => m.Id));
        Assert.Equal(Enumerable.Range(0, 5).SelectMany(i => new[] { 1_000L + 10 * i, 1_001L + 10 * i }), history.Select(m => m.TimestampMs - T0));
        Assert.Equal(Enumerable.Repeat(new[] { "in", "out" }, 5).SelectMany(x => x), history.Select(m => m.Direction));
        Assert.Equal(TurnIds("t4"), (await reader.MessagesAsync(Conv, 2, None)).Select(m => m.Id));
        var listed = (await reader.ListAsync(0, 10, None)).ToDictionary(c => c.ConversationKey);
        Assert.Equal((10, 1_041L), (listed[Conv].MessageCount, listed[Conv].LastActivityMs - T0));
        Assert.Equal(4, listed["web:c-other"].MessageCount);

        using var export = JsonDocument.Parse(await harness.Get<UserDataRights>().ExportJsonAsync(Alice, None));
        var exported = export.RootElement.GetProperty("messages").EnumerateArray().ToList();
        Assert.Equal(TurnIds("t0", "t1", "t2", "t3", "t4", "o0", "o1"), exported.Select(m => m.GetProperty("id").GetString()));
        Assert.Equal(("out", "answer to t3", "de"),
            (exported[7].GetProperty("direction").GetString(), exported[7].GetProperty("text").GetString(), exported[7].GetProperty("language").GetString()));
        Assert.Equal(("greet", "en"), (exported[6].GetProperty("intent").GetString(), exported[6].GetProperty("language").GetString()));
    }

    [Fact]
    public async Task Deleting_a_user_of_a_group_conversation_takes_only_their_turns_out_of_a_bucket()
    {
        await using var harness = await MemoryHarness.StartAsync(settings: Held);
        // Bob starts the conversation with a message of its own; then Alice's and Bob's turns share one bucket, Alice's first.
        await harness.Get<IConversationStore>().RecordMessageAsync(In("bs", 900, Bob), None);
        await harness.Get<GroupCommitWriter>().WhenWrittenAsync(None);
        await Turn(harness, "a0", 1_000, Alice);
        await Turn(harness, "b0", 1_010, Bob);
        await Turn(harness, "a1", 1_020, Alice);
        await Turn(harness, "b1", 1_030, Bob);
        var bucket = (await WrittenDocumentsAsync(harness)).Single(d => d.More is not null);
        Assert.Equal(("a0", 3), (bucket.Id, bucket.More!.Count));

        int events = harness.Get<EventLog>().ForUser(Alice).Count;
        int removed = await harness.Get<UserDataRights>().DeleteAsync(Alice, None);
        Assert.Equal(4 + 2 + events, removed); // Alice's 4 messages, her 2 vectors, her events (the conversation is Bob's)

        // Bob's turns stay, rewritten under his first turn's key.
        var left = Documents(harness).Single(d => d.Id != "bs");
        Assert.Equal(MessageKey.For(Conv, "b0"), left.Key);
        Assert.Equal(("b0", 1), (left.Id, left.More!.Count));
        Assert.All(left.Parts(), m => Assert.Equal(Bob, m.User));
        var history = await harness.Get<IConversationReader>().MessagesAsync(Conv, 20, None);
        Assert.Equal(new[] { "bs" }.Concat(TurnIds("b0", "b1")), history.Select(m => m.Id));
        using var export = JsonDocument.Parse(await harness.Get<UserDataRights>().ExportJsonAsync(Bob, None));
        Assert.Equal(new[] { "bs" }.Concat(TurnIds("b0", "b1")), export.RootElement.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("id").GetString()));

        await harness.Get<UserDataRights>().DeleteAsync(Bob, None);
        Assert.Empty(Documents(harness));
    }

    [Fact]
    public async Task A_redelivered_message_is_stored_once_whether_held_inside_a_stored_bucket_or_stored_before_a_restart()
    {
        string root = Directory.CreateTempSubdirectory("moltbot-bucket-test").FullName;
        {
            var harness = await MemoryHarness.StartAsync(root, Held);
            var writer = harness.Get<GroupCommitWriter>();
            for (int i = 0; i < 4; i++) await Turn(harness, "t" + i, 1_000 + 10 * i);
            await Turn(harness, "t2", 1_020); // held: found among the held turns
            await CommittedAsync(harness);
            Assert.Equal(4, writer.Buckets!.HeldTurns);
            await writer.WhenWrittenAsync(None);
            // Inside the stored bucket (t1, t3: not under their own key), its first turn (its key), a user message alone.
            await Turn(harness, "t1", 1_010);
            await Turn(harness, "t0", 1_000);
            await harness.Get<IConversationStore>().RecordMessageAsync(In("t3", 1_030), None);
            await harness.Get<IConversationStore>().RecordMessageAsync(Out("t3", 1_031), None);
            await Turn(harness, "t4", 1_040);
            var docs = await WrittenDocumentsAsync(harness);
            Assert.Equal(TurnIds("t0", "t1", "t2", "t3", "t4"), docs.SelectMany(d => d.Parts()).Select(m => m.Id).Order(StringComparer.Ordinal));
            Assert.Equal(10, CountOf(harness));
            Assert.Equal(0, writer.Failures);
            await harness.RestartableStopAsync();
        }
        await using var again = await MemoryHarness.StartAsync(root, Held);
        Assert.Equal((0, 0), again.Get<LogReplay>().Restored);
        // A new process: the writer reads the conversation's ids once, then finds t1 inside its bucket.
        await Turn(again, "t1", 1_010);
        await Turn(again, "t5", 1_050);
        await again.Get<IConversationStore>().RecordMessageAsync(Out("t2", 1_021), None);
        var history = await again.Get<IConversationReader>().MessagesAsync(Conv, 50, None);
        Assert.Equal(TurnIds("t0", "t1", "t2", "t3", "t4", "t5"), history.Select(m => m.Id));
        Assert.Equal(12, CountOf(again));
        Assert.Equal(0, again.Get<GroupCommitWriter>().Failures);
    }

    [Fact]
    public async Task The_replay_does_not_store_again_what_a_bucket_holds_and_restores_what_LiteDB_lost_once_without_a_second_vector()
    {
        string root = Directory.CreateTempSubdirectory("moltbot-bucket-test").FullName;
        string dbFile;
        {
            var first = await MemoryHarness.StartAsync(root, Held);
            dbFile = first.DatabaseFile;
            for (int i = 0; i < 6; i++) await Turn(first, "r" + i, 1_000 + 10 * i);
            await first.RestartableStopAsync(); // the stop writes the held bucket
        }
        // LiteDB kept the bucket but the replay mark is gone: all six frames are replayed and found inside it.
        using (var raw = new LiteDatabase($"Filename={dbFile}"))
        {
            Assert.Equal(1, raw.GetCollection(Collections.Meta).DeleteAll());
            Assert.Equal(1, raw.GetCollection(Collections.Messages).Count());
        }
        {
            var second = await MemoryHarness.StartAsync(root, Held);
            Assert.Equal((0, 0), second.Get<LogReplay>().Restored);
            Assert.Equal(12, CountOf(second));
            await second.RestartableStopAsync();
        }
        // LiteDB lost the bucket but not the vectors (a kill while the turns were held: the vectors commit with the
        // turns' group, the bucket later): the messages come back once, the vectors are not stored a second time.
        using (var raw = new LiteDatabase($"Filename={dbFile}"))
        {
            Assert.Equal(1, raw.GetCollection(Collections.Messages).DeleteAll());
            Assert.Equal(1, raw.GetCollection(Collections.Meta).DeleteAll());
            Assert.Equal(6, raw.GetCollection(Collections.Vectors).Count());
        }
        {
            var held = await MemoryHarness.StartAsync(root, Held);
            Assert.Equal((12, 0), held.Get<LogReplay>().Restored);
            Assert.Equal(6, held.Get<MemoryDatabase>().Db.GetCollection<VectorDoc>(Collections.Vectors).Count());
            Assert.Equal(12, CountOf(held));
            await held.RestartableStopAsync();
        }
        // LiteDB lost everything: every message comes back once (as documents of one message), with its vector.
        File.Delete(dbFile);
        File.Delete(Path.Combine(Path.GetDirectoryName(dbFile)!, "moltbot-log.db"));
        {
            var third = await MemoryHarness.StartAsync(root, Held);
            Assert.Equal((12, 6), third.Get<LogReplay>().Restored);
            await third.RestartableStopAsync();
        }
        await using var fourth = await MemoryHarness.StartAsync(root, Held);
        Assert.Equal((0, 0), fourth.Get<LogReplay>().Restored);
        Assert.Equal(12, CountOf(fourth));
        Assert.Equal(Enumerable.Range(0, 6).SelectMany(i => TurnIds("r" + i)), (await fourth.Get<IConversationReader>().MessagesAsync(Conv, 20, None)).Select(m => m.Id));
    }

    [Fact]
    public async Task Turn_and_single_documents_from_before_are_read_alongside_buckets()
    {
        string root = Directory.CreateTempSubdirectory("moltbot-bucket-test").FullName;
        {
            // Written at once: a message of its own (as every version before turn documents), then a turn document.
            var old = await MemoryHarness.StartAsync(root, TurnDocumentTests.TurnsAtOnce);
            await old.Get<IConversationStore>().RecordMessageAsync(In("s", 1_000), None);
            await old.Get<IConversationStore>().RecordMessageAsync(Out("s", 1_001), None);
            await Turn(old, "d", 1_010);
            await old.RestartableStopAsync();
        }
        await using var harness = await MemoryHarness.StartAsync(root, Held);
        await Turn(harness, "b0", 1_020);
        await Turn(harness, "d", 1_010); // redelivered: stored as a turn document before
        await Turn(harness, "s", 1_000); // redelivered: stored as two documents of one message
        await Turn(harness, "b1", 1_030);
        var docs = await WrittenDocumentsAsync(harness);
        Assert.Equal(4, docs.Count); // s, s:out, d (a turn), the bucket b0 + b1
        Assert.Single(docs.Single(d => d.Id == "b0").More!);
        Assert.Equal(8, CountOf(harness));
        var history = await harness.Get<IConversationReader>().MessagesAsync(Conv, 20, None);
        Assert.Equal(TurnIds("s", "d", "b0", "b1"), history.Select(m => m.Id));

        int events = harness.Get<EventLog>().ForUser(Alice).Count;
        int removed = await harness.Get<UserDataRights>().DeleteAsync(Alice, None);
        Assert.Equal(8 + 1 + 4 + events, removed); // messages, the conversation, vectors (s, d, b0, b1), events
        Assert.Empty(Documents(harness));
    }

    [Fact]
    public async Task A_profile_save_leaves_the_held_turns_held()
    {
        // A new user's first turn saves a profile; written out for it, held turns would make buckets of a turn or two.
        await using var harness = await MemoryHarness.StartAsync(settings: Held);
        await Turn(harness, "p0", 1_000);
        await harness.Get<UserProfileStore>().SaveAsync(new UserProfile(Alice) { Language = "en" }, None);
        await Turn(harness, "p1", 1_010);
        await CommittedAsync(harness);
        Assert.Equal(2, harness.Get<GroupCommitWriter>().Buckets!.HeldTurns);
        Assert.Equal("en", harness.Get<MemoryDatabase>().Db.GetCollection<ProfileDoc>(Collections.Profiles).FindById(Alice).Language);

        var bucket = Assert.Single(await WrittenDocumentsAsync(harness));
        Assert.Equal(("p0", 1), (bucket.Id, bucket.More!.Count));
    }

    [Fact]
    public async Task A_full_bucket_starts_a_new_one()
    {
        await using var harness = await MemoryHarness.StartAsync(settings: Held);
        for (int i = 0; i < TurnBuckets.MaxTurns + 5; i++) await Turn(harness, "n" + i, 1_000 + 10 * i);
        // Text: a bucket holds ≈ 64 KB at most; a turn larger than that alone is a bucket of one.
        string big = new('x', 40_000);
        for (int i = 0; i < 3; i++) await Turn(harness, "big" + i, 1_000, conv: "web:c-big", text: big);

        var docs = await WrittenDocumentsAsync(harness);
        var turnsPerBucket = docs.Where(d => d.Conv == Conv).OrderBy(d => d.Ts).Select(d => 1 + (d.More?.Count ?? 0)).ToList();
        Assert.Equal([TurnBuckets.MaxTurns, 5], turnsPerBucket);
        Assert.Equal([1, 1, 1], docs.Where(d => d.Conv == "web:c-big").Select(d => 1 + (d.More?.Count ?? 0)));
        Assert.Equal(2 * (TurnBuckets.MaxTurns + 5), (await harness.Get<IConversationReader>().MessagesAsync(Conv, 1_000, None)).Count);
        Assert.Equal(2 * (TurnBuckets.MaxTurns + 5), CountOf(harness));
    }
}
