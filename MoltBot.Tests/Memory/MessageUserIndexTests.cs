using LiteDB;
using MoltBot.Contracts.Admin;
using MoltBot.Contracts.Memory;
using MoltBot.Memory.Storage;

namespace MoltBot.Tests.Memory;

/// <summary>
/// "messages" has no User index (every insert paid for it; only export and deletion read it). A user's messages are
/// found through the conversations they spoke in (<see cref="ConversationDoc.Users"/>, multikey-indexed), including
/// other users' group conversations; a file from before is converted once at start.
/// </summary>
public class MessageUserIndexTests
{
    private static readonly CancellationToken None = CancellationToken.None;
    private const string Alice = "web:alice", Bob = "web:bob";

    private static bool HasIndex(LiteDatabase db, string collection, string name) =>
        db.GetCollection("$indexes").Exists(BsonExpression.Create("collection = @0 AND name = @1", collection, name));

    [Fact]
    public async Task Export_and_deletion_find_a_users_messages_in_other_users_group_conversations()
    {
        await using var harness = await MemoryHarness.StartAsync();
        var store = harness.Get<IConversationStore>();
        // Bob's group (he spoke first), Alice's own chat, and Bob's own chat.
        await store.RecordMessageAsync(new ConversationMessage("g1", "web:group", Bob, "in", "bob opens the group", 100), None);
        await store.RecordMessageAsync(new ConversationMessage("g2", "web:group", Alice, "in", "alice pumpkin in the group", 101), None);
        await store.RecordMessageAsync(new ConversationMessage("g3", "web:group", Bob, "in", "bob again", 102), None);
        await store.RecordMessageAsync(new ConversationMessage("a1", "web:ca", Alice, "in", "alice pumpkin alone", 103), None);
        await store.RecordMessageAsync(new ConversationMessage("b1", "web:cb", Bob, "in", "bob alone", 104), None);

        var db = harness.Get<MemoryDatabase>().Db;
        var rights = harness.Get<IUserDataRights>();
        string json = await rights.ExportJsonAsync(Alice, None);
        Assert.Contains("alice pumpkin in the group", json);
        Assert.Contains("alice pumpkin alone", json);
        Assert.DoesNotContain("bob opens", json);
        Assert.DoesNotContain("bob alone", json);
        Assert.False(HasIndex(db, Collections.Messages, nameof(MessageDoc.User)));
        Assert.Equal([Bob, Alice], db.GetCollection<ConversationDoc>(Collections.Conversations).FindById("web:group").Users);

        await rights.DeleteAsync(Alice, None);
        var messages = db.GetCollection<MessageDoc>(Collections.Messages).FindAll().Select(m => m.Id).Order().ToList();
        Assert.Equal(["b1", "g1", "g3"], messages);
        var group = db.GetCollection<ConversationDoc>(Collections.Conversations).FindById("web:group");
        Assert.Equal([Bob], group.Users); // Bob's group stays, without Alice
        Assert.Null(db.GetCollection<ConversationDoc>(Collections.Conversations).FindById("web:ca"));
        Assert.DoesNotContain("pumpkin", await rights.ExportJsonAsync(Alice, None));
        Assert.Contains("bob again", await rights.ExportJsonAsync(Bob, None));
    }

    internal static BsonDocument OldMessage(string id, string conv, string user, string text, long ts) => new()
    {
        ["_id"] = id, ["Conv"] = conv, ["User"] = user, ["Direction"] = "in", ["Text"] = text, ["Ts"] = ts,
    };

    [Fact]
    public async Task A_file_with_the_old_User_index_is_converted_once_at_start()
    {
        string root = Directory.CreateTempSubdirectory("moltbot-memory-test").FullName;
        string file = Path.Combine(root, "data", "memory", "moltbot.db");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        using (var old = new LiteDatabase(new ConnectionString { Filename = file, Connection = ConnectionType.Direct }))
        {
            // That file's schema: the message id as the primary key, Conv and User indexes.
            var messages = old.GetCollection(Collections.Messages);
            messages.EnsureIndex(nameof(MessageDoc.Conv), "$.Conv");
            messages.EnsureIndex(nameof(MessageDoc.User), "$.User");
            messages.Insert(OldMessage("g1", "web:group", Bob, "bob opens the group", 100));
            messages.Insert(OldMessage("g2", "web:group", Alice, "alice pumpkin in the group", 101));
            messages.Insert(OldMessage("a1", "web:ca", Alice, "alice pumpkin alone", 102));
            var conversations = old.GetCollection<ConversationDoc>(Collections.Conversations);
            conversations.Insert(new ConversationDoc { Id = "web:group", User = Bob, MessageCount = 2, StartedMs = 100, LastActivityMs = 101 });
            conversations.Insert(new ConversationDoc { Id = "web:ca", User = Alice, MessageCount = 1, StartedMs = 102, LastActivityMs = 102 });
            Assert.True(HasIndex(old, Collections.Messages, nameof(MessageDoc.User)));
        }

        var harness = await MemoryHarness.StartAsync(root);
        {
            var db = harness.Get<MemoryDatabase>().Db;
            Assert.False(HasIndex(db, Collections.Messages, nameof(MessageDoc.User)));
            var group = db.GetCollection<ConversationDoc>(Collections.Conversations).FindById("web:group");
            Assert.Equal([Bob, Alice], group.Users);
            string json = await harness.Get<IUserDataRights>().ExportJsonAsync(Alice, None);
            Assert.Contains("alice pumpkin in the group", json);
            Assert.Contains("alice pumpkin alone", json);
            Assert.DoesNotContain("bob opens", json);
            // A new message in the converted group keeps the list (no duplicate entry).
            await harness.Get<IConversationStore>().RecordMessageAsync(new ConversationMessage("g3", "web:group", Alice, "in", "alice again", 103), None);
            await harness.Get<GroupCommitWriter>().WhenWrittenAsync(None);
            Assert.Equal([Bob, Alice], db.GetCollection<ConversationDoc>(Collections.Conversations).FindById("web:group").Users);
            await harness.RestartableStopAsync();
        }

        // The second start finds nothing to convert and keeps the lists.
        await using var again = await MemoryHarness.StartAsync(root);
        Assert.Equal([Bob, Alice], again.Get<MemoryDatabase>().Db.GetCollection<ConversationDoc>(Collections.Conversations).FindById("web:group").Users);
    }
}
