using LiteDB;
using MoltBot.Contracts.Admin;
using MoltBot.Contracts.Memory;
using MoltBot.Memory.Storage;

namespace MoltBot.Tests.Memory;

/// <summary>
/// "messages" is keyed by conversation + message id (<see cref="MessageKey"/>) and has no other index: history,
/// export, deletion and the duplicate check read key ranges of a real LiteDB file; a file written with the old schema
/// (message id as the key, a Conv index) is converted once at open.
/// </summary>
public class MessageKeyTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static ConversationMessage In(string id, string conv, string user, string text, long ts) => new(id, conv, user, "in", text, ts);

    private static List<string> IndexesOf(LiteDatabase db, string collection) =>
        db.GetCollection("$indexes").Find(BsonExpression.Create("collection = @0", collection)).Select(d => d["name"].AsString).Order(StringComparer.Ordinal).ToList();

    [Fact]
    public void A_conversations_range_query_has_one_text_for_every_conversation()
    {
        // LiteDB compiles (and keeps for the process) one dynamic method per distinct expression text: the bounds
        // must be parameters, not part of the text.
        var a = MessageKey.InConversation("web:a");
        var b = MessageKey.InConversation("web:" + new string('x', 700));
        Assert.Equal(a.Source, b.Source);
        Assert.NotEqual(a.Parameters["0"], b.Parameters["0"]);
    }

    [Fact]
    public async Task Each_conversation_reads_exactly_its_messages_when_keys_share_prefixes_or_are_hashed()
    {
        await using var harness = await MemoryHarness.StartAsync();
        var store = harness.Get<IConversationStore>();
        string longConv = "web:" + new string('x', 700), longConv2 = "web:" + new string('x', 699) + "y"; // both hashed
        string[] conversations = ["web:a", "web:a:b", "web:ab", "web:ä", "web:", longConv, longConv2];
        long ts = 1_000;
        foreach (string conv in conversations)
        {
            for (int i = 0; i < 3; i++) await store.RecordMessageAsync(In($"{conv.Length}-{i}", conv, "web:u", $"{conv}|{i}", ts++), None);
        }
        // The same message id in two conversations: two messages (the key is the pair).
        await store.RecordMessageAsync(In("shared", "web:a", "web:u", "web:a|shared", ts++), None);
        await store.RecordMessageAsync(In("shared", "web:a:b", "web:u", "web:a:b|shared", ts++), None);

        var reader = harness.Get<IConversationReader>();
        foreach (string conv in conversations)
        {
            var texts = (await reader.MessagesAsync(conv, 100, None)).Select(m => m.Text).ToList();
            var expected = Enumerable.Range(0, 3).Select(i => $"{conv}|{i}").ToList();
            if (conv is "web:a" or "web:a:b") expected.Add(conv + "|shared");
            Assert.Equal(expected, texts);
        }
        var last2 = await reader.MessagesAsync("web:a", 2, None);
        Assert.Equal(["web:a|2", "web:a|shared"], last2.Select(m => m.Text));
        Assert.Equal("shared", last2[1].Id);

        var db = harness.Get<MemoryDatabase>().Db;
        Assert.Equal(["_id"], IndexesOf(db, Collections.Messages)); // one skip-list insert per message
        Assert.Equal(conversations.Length * 3 + 2, db.GetCollection<MessageDoc>(Collections.Messages).Count());
    }

    [Fact]
    public async Task A_redelivered_message_is_stored_once_even_with_an_id_too_long_for_a_literal_key()
    {
        await using var harness = await MemoryHarness.StartAsync();
        var store = harness.Get<IConversationStore>();
        var writer = harness.Get<GroupCommitWriter>();
        string longId = "tg_" + new string('9', 1_200);
        for (int round = 0; round < 2; round++)
        {
            await store.RecordMessageAsync(In(longId, "web:c", "web:u", "long id", 1), None);
            await store.RecordMessageAsync(In("m1", "web:c", "web:u", "short id", 2), None);
            await writer.WhenWrittenAsync(None);
        }
        Assert.Equal(0, writer.Failures);
        var db = harness.Get<MemoryDatabase>().Db;
        Assert.Equal(2, db.GetCollection<ConversationDoc>(Collections.Conversations).FindById("web:c").MessageCount);
        Assert.True(MessageKey.For("web:c", longId).Length <= MessageKey.MaxKeyBytes);
        var history = await harness.Get<IConversationReader>().MessagesAsync("web:c", 10, None);
        Assert.Equal([longId, "m1"], history.Select(m => m.Id));
    }

    [Fact]
    public void Ranges_are_exact_byte_ranges()
    {
        var (low, high) = MessageKey.RangeOf("web:a");
        Assert.True(MessageKey.For("web:a", "").AsSpan().SequenceCompareTo(low) >= 0);
        Assert.True(MessageKey.For("web:a", "\uffff\uffff").AsSpan().SequenceCompareTo(high) <= 0);
        foreach (string other in new[] { "web:a:b", "web:", "web:b", "web:A" })
        {
            var key = MessageKey.For(other, "x");
            Assert.False(key.AsSpan().SequenceCompareTo(low) >= 0 && key.AsSpan().SequenceCompareTo(high) <= 0, other);
        }
        Assert.NotEqual(MessageKey.For("a", "b\0c"), MessageKey.For("a\0b", "c"));
    }

    [Fact]
    public async Task A_file_with_the_old_message_key_is_converted_once_and_every_reader_and_writer_keeps_working()
    {
        string root = Directory.CreateTempSubdirectory("moltbot-memory-test").FullName;
        try
        {
            string file = Path.Combine(root, "data", "memory", "moltbot.db");
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            using (var old = new LiteDatabase(new ConnectionString { Filename = file, Connection = ConnectionType.Direct }))
            {
                var messages = old.GetCollection(Collections.Messages);
                messages.EnsureIndex(nameof(MessageDoc.Conv), "$.Conv");
                // More than one conversion chunk (MemoryDatabase.MigrationChunk), inserted in one transaction.
                old.BeginTrans();
                for (int i = 0; i < 2_500; i++)
                {
                    string conv = i % 2 == 0 ? "web:alice-chat" : "web:bob-chat", user = i % 2 == 0 ? "web:alice" : "web:bob";
                    messages.Insert(MessageUserIndexTests.OldMessage($"gw_{i:D4}", conv, user, $"{conv} says {i}", 10_000 + i));
                }
                old.Commit();
                var conversations = old.GetCollection<ConversationDoc>(Collections.Conversations);
                conversations.Insert(new ConversationDoc { Id = "web:alice-chat", User = "web:alice", MessageCount = 1_250, StartedMs = 10_000, LastActivityMs = 12_498, Users = ["web:alice"] });
                conversations.Insert(new ConversationDoc { Id = "web:bob-chat", User = "web:bob", MessageCount = 1_250, StartedMs = 10_001, LastActivityMs = 12_499, Users = ["web:bob"] });
                Assert.Equal(["Conv", "_id"], IndexesOf(old, Collections.Messages));
            }

            var first = await MemoryHarness.StartAsync(root);
            try
            {
                var db = first.Get<MemoryDatabase>().Db;
                Assert.Equal(["_id"], IndexesOf(db, Collections.Messages));
                var raw = db.GetCollection(Collections.Messages).FindAll().ToList();
                Assert.Equal(2_500, raw.Count);
                Assert.All(raw, d => Assert.True(d["_id"].IsBinary));
                Assert.Equal(MessageKey.For("web:alice-chat", "gw_0004"), db.GetCollection<MessageDoc>(Collections.Messages).FindOne(m => m.Id == "gw_0004").Key);

                var reader = first.Get<IConversationReader>();
                var alice = await reader.MessagesAsync("web:alice-chat", 3, None);
                Assert.Equal(["gw_2494", "gw_2496", "gw_2498"], alice.Select(m => m.Id));
                Assert.Equal("web:alice-chat says 2498", alice[2].Text);

                // A redelivered old message is recognized (its new key is derived from the same pair); a new one is counted.
                var store = first.Get<IConversationStore>();
                await store.RecordMessageAsync(In("gw_2498", "web:alice-chat", "web:alice", "web:alice-chat says 2498", 12_498), None);
                await store.RecordMessageAsync(In("gw_2500", "web:alice-chat", "web:alice", "new after the upgrade", 12_500), None);
                await first.Get<GroupCommitWriter>().WhenWrittenAsync(None);
                Assert.Equal(1_251, db.GetCollection<ConversationDoc>(Collections.Conversations).FindById("web:alice-chat").MessageCount);

                var rights = first.Get<IUserDataRights>();
                string export = await rights.ExportJsonAsync("web:bob", None);
                Assert.Contains("web:bob-chat says 2499", export);
                Assert.Contains("gw_2499", export);
                Assert.DoesNotContain("alice-chat says", export);
                await rights.DeleteAsync("web:bob", None);
                Assert.Empty(await reader.MessagesAsync("web:bob-chat", 100, None));
                Assert.Equal(1_251, (await reader.MessagesAsync("web:alice-chat", 10_000, None)).Count);
                await first.RestartableStopAsync();
            }
            catch
            {
                await first.DisposeAsync();
                throw;
            }

            // The second open finds nothing to convert.
            await using var again = await MemoryHarness.StartAsync(root);
            var history = await again.Get<IConversationReader>().MessagesAsync("web:alice-chat", 10_000, None);
            Assert.Equal(1_251, history.Count);
            Assert.Equal("new after the upgrade", history[^1].Text);
            Assert.Equal(["_id"], IndexesOf(again.Get<MemoryDatabase>().Db, Collections.Messages));
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }
}
