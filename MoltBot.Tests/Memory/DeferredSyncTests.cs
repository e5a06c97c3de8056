using LiteDB;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Admin;
using MoltBot.Contracts.Configuration;
using MoltBot.Contracts.Memory;
using MoltBot.Memory;
using MoltBot.Memory.Storage;

namespace MoltBot.Tests.Memory;

/// <summary>
/// LiteDB's log is fsynced every Memory:DatabaseSyncMilliseconds instead of every commit; the event log stays the
/// record fsynced before a reply, and start-up restores messages LiteDB lost. A power loss cannot be staged in a
/// test, so the tests take the lost commits out of the LiteDB file by hand and check what start-up puts back.
/// </summary>
public class DeferredSyncTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Every_message_and_the_dialog_state_are_in_LiteDB_after_a_clean_restart()
    {
        var harness = await MemoryHarness.StartAsync();
        string root = harness.Root;
        var store = harness.Get<IConversationStore>();
        var states = harness.Get<IDialogStateStore>();
        // Interleaved writes of 20 conversations, issued concurrently so they share group commits.
        var writes = new List<Task>();
        for (int c = 0; c < 20; c++)
        {
            for (int i = 0; i < 5; i++)
            {
                writes.Add(store.RecordMessageAsync(new ConversationMessage($"c{c}-m{i}", $"web:c{c}", $"web:u{c}", "in", $"hello {i}", 1000 + i * 2), None).AsTask());
                writes.Add(store.RecordMessageAsync(new ConversationMessage($"c{c}-m{i}:out", $"web:c{c}", $"web:u{c}", "out", $"reply {i}", 1001 + i * 2), None).AsTask());
            }
            writes.Add(states.SaveAsync(new DialogState($"web:c{c}", $"web:u{c}") { ActiveIntent = "weather_query", LastActivityMs = 1009, UpdatedMs = 1009 }, None).AsTask());
        }
        await Task.WhenAll(writes);
        Assert.True(File.Exists(harness.Get<MemoryDatabase>().LogFilePath), "LiteDB's log is not where LiteDB names it");
        await harness.RestartableStopAsync();

        await using var restarted = await MemoryHarness.StartAsync(root);
        var reader = restarted.Get<IConversationReader>();
        var list = await reader.ListAsync(0, 100, None);
        Assert.Equal(20, list.Count);
        Assert.All(list, c => Assert.Equal(10, c.MessageCount));
        for (int c = 0; c < 20; c++)
        {
            var messages = await reader.MessagesAsync($"web:c{c}", 100, None);
            Assert.Equal(Enumerable.Range(0, 5).SelectMany(i => new[] { $"hello {i}", $"reply {i}" }), messages.Select(m => m.Text));
            var state = await restarted.Get<IDialogStateStore>().GetAsync($"web:c{c}", None);
            Assert.Equal("weather_query", state?.ActiveIntent);
        }
        Assert.True(File.Exists(restarted.Get<MemoryDatabase>().SyncedMarkPath));
    }

    [Fact]
    public async Task Messages_LiteDB_lost_are_restored_from_the_event_log_at_start_with_their_counters()
    {
        var clock = new FakeClock(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));
        long t0 = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var harness = await MemoryHarness.StartAsync(clock: clock);
        string root = harness.Root;
        var store = harness.Get<IConversationStore>();
        await store.RecordMessageAsync(new ConversationMessage("old", "web:a", "web:u", "in", "long ago", t0 - 600_000) { Intent = "greet", Language = "en" }, None);
        await store.RecordMessageAsync(new ConversationMessage("m1", "web:a", "web:u", "in", "what time is it", t0) { Intent = "time_query", Language = "en" }, None);
        await store.RecordMessageAsync(new ConversationMessage("m1:out", "web:a", "web:u", "out", "It is 10:00.", t0 + 1), None);
        await store.RecordMessageAsync(new ConversationMessage("n1", "web:b", "web:v", "in", "hi", t0 + 2), None);
        string dbFile = harness.DatabaseFile;
        await harness.RestartableStopAsync();

        // As after a power loss within the sync interval: the last commits never reached LiteDB's file (the event log has them).
        using (var db = new LiteDatabase(new ConnectionString { Filename = dbFile, Connection = ConnectionType.Direct }))
        {
            db.GetCollection<MessageDoc>(Collections.Messages).Delete("m1");
            db.GetCollection<MessageDoc>(Collections.Messages).Delete("m1:out");
            var a = db.GetCollection<ConversationDoc>(Collections.Conversations).FindById("web:a");
            a.MessageCount = 1;
            db.GetCollection<ConversationDoc>(Collections.Conversations).Update(a);
            db.GetCollection<ConversationDoc>(Collections.Conversations).Delete("web:b");
            db.GetCollection<MessageDoc>(Collections.Messages).Delete("n1");
            // And the one message older than the synced mark (minus the margin) that LiteDB lost is not looked for.
            db.GetCollection<MessageDoc>(Collections.Messages).Delete("old");
            a.MessageCount = 0;
            db.GetCollection<ConversationDoc>(Collections.Conversations).Update(a);
        }
        await File.WriteAllTextAsync(dbFile + ".synced", (t0 - 1000).ToString(System.Globalization.CultureInfo.InvariantCulture));

        await using var restarted = await MemoryHarness.StartAsync(root, clock: clock);
        var reader = restarted.Get<IConversationReader>();
        var messages = await reader.MessagesAsync("web:a", 10, None);
        Assert.Equal(["what time is it", "It is 10:00."], messages.Select(m => m.Text));
        Assert.Equal(["in", "out"], messages.Select(m => m.Direction));
        var restoredIn = restarted.Get<MemoryDatabase>().Collection<MessageDoc>(Collections.Messages).FindById("m1");
        Assert.Equal("time_query", restoredIn.Intent);
        Assert.Equal("en", restoredIn.Language);
        var list = await reader.ListAsync(0, 10, None);
        Assert.Equal([new ConversationSummary("web:b", "web:v", 1, t0 + 2), new ConversationSummary("web:a", "web:u", 2, t0 + 1)], list);
        Assert.Equal(["hi"], (await reader.MessagesAsync("web:b", 10, None)).Select(m => m.Text));
    }

    [Fact]
    public async Task Without_a_synced_mark_every_message_of_the_event_log_is_checked()
    {
        var harness = await MemoryHarness.StartAsync();
        string root = harness.Root;
        await harness.Get<IConversationStore>().RecordMessageAsync(new ConversationMessage("x1", "web:x", "web:u", "in", "first ever", 5), None);
        string dbFile = harness.DatabaseFile;
        await harness.RestartableStopAsync();
        using (var db = new LiteDatabase(new ConnectionString { Filename = dbFile, Connection = ConnectionType.Direct }))
        {
            db.GetCollection<MessageDoc>(Collections.Messages).Delete("x1");
            db.GetCollection<ConversationDoc>(Collections.Conversations).Delete("web:x");
        }
        File.Delete(dbFile + ".synced");

        await using var restarted = await MemoryHarness.StartAsync(root);
        Assert.Equal(["first ever"], (await restarted.Get<IConversationReader>().MessagesAsync("web:x", 10, None)).Select(m => m.Text));
    }

    [Fact]
    public async Task The_syncer_fsyncs_only_when_LiteDB_wrote_something()
    {
        await using var harness = await MemoryHarness.StartAsync(settings: new Dictionary<string, string?> { ["Memory:DatabaseSyncMilliseconds"] = "10000" });
        var database = harness.Get<MemoryDatabase>();
        var syncer = harness.Get<DatabaseSyncer>();
        string mark = database.SyncedMarkPath;
        syncer.SyncNow(); // whatever start-up wrote
        File.Delete(mark);
        syncer.SyncNow();
        Assert.False(File.Exists(mark), "synced with nothing written");

        await harness.Get<IConversationStore>().RecordMessageAsync(new ConversationMessage("s1", "web:s", "web:u", "in", "sync me", 7), None);
        syncer.SyncNow();
        Assert.True(File.Exists(mark));
    }

    [Fact]
    public async Task Writes_in_one_batch_share_the_conversation_document_and_a_raw_write_in_between_sees_it()
    {
        string root = Directory.CreateTempSubdirectory("moltbot-memory-test").FullName;
        var paths = new MoltBotPaths(root, Path.Combine(root, "data"), Path.Combine(root, "models"));
        var options = Options.Create(new MemoryOptions());
        using var database = new MemoryDatabase(paths, options, TimeProvider.System, NullLogger<MemoryDatabase>.Instance);
        database.Open();
        await using var writer = new GroupCommitWriter(database, options, NullLogger<GroupCommitWriter>.Instance);
        ConversationDoc New() => new() { Id = "web:c", User = "web:u" };

        // Queued before the writer starts, so all of them form one batch, in this order.
        var first = writer.WriteAsync((WriteBatch b) => b.Conversation("web:c", New).MessageCount += 1, None).AsTask();
        var second = writer.WriteAsync((WriteBatch b) => b.Conversation("web:c", New).DialogState = "{}", None).AsTask();
        int seenByRaw = -1;
        var raw = writer.WriteAsync(db => seenByRaw = db.GetCollection<ConversationDoc>(Collections.Conversations).FindById("web:c").MessageCount, None).AsTask();
        var third = writer.WriteAsync((WriteBatch b) => b.Conversation("web:c", New).MessageCount += 1, None).AsTask();
        var deleted = writer.WriteAsync(db => db.GetCollection<ConversationDoc>(Collections.Conversations).Delete("web:other"), None).AsTask();
        writer.Start();
        await Task.WhenAll(first, second, raw, third, deleted);

        Assert.Equal(1, writer.Commits);
        Assert.Equal(1, seenByRaw);
        var doc = database.Collection<ConversationDoc>(Collections.Conversations).FindById("web:c");
        Assert.Equal(2, doc.MessageCount);
        Assert.Equal("{}", doc.DialogState);
    }
}
