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
/// record fsynced before a reply, and start-up restores messages LiteDB lost (that part: LogReplayTests and
/// CrashDurabilityTests).
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
    }

    [Fact]
    public async Task The_syncer_fsyncs_only_when_LiteDB_wrote_something()
    {
        // Long intervals: neither the syncer's loop nor the replay mark writes anything while the test runs.
        await using var harness = await MemoryHarness.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Memory:DatabaseSyncMilliseconds"] = "10000",
            ["Memory:ReplayMarkSeconds"] = "3600",
        });
        var syncer = harness.Get<DatabaseSyncer>();
        // LiteDB hands committed pages to its own background disk writer, so what start-up committed may reach the log
        // stream a little later: sync until a call finds nothing new (a syncer that always fsyncs never gets there).
        long before = -1;
        for (int attempt = 0; attempt < 100 && syncer.Syncs != before; attempt++)
        {
            before = syncer.Syncs;
            await Task.Delay(20);
            syncer.SyncNow();
        }
        Assert.Equal(before, syncer.Syncs); // nothing written, nothing fsynced

        await harness.Get<IConversationStore>().RecordMessageAsync(new ConversationMessage("s1", "web:s", "web:u", "in", "sync me", 7), None);
        // The write reaches the log stream once LiteDB's writer runs; then exactly one fsync covers it.
        for (int attempt = 0; attempt < 250 && syncer.Syncs == before; attempt++)
        {
            syncer.SyncNow();
            if (syncer.Syncs == before) await Task.Delay(20);
        }
        Assert.Equal(before + 1, syncer.Syncs);
    }

    [Fact]
    public async Task Writes_in_one_batch_share_the_conversation_document_and_a_raw_write_in_between_sees_it()
    {
        string root = Directory.CreateTempSubdirectory("moltbot-memory-test").FullName;
        var paths = new MoltBotPaths(root, Path.Combine(root, "data"), Path.Combine(root, "models"));
        var options = Options.Create(new MemoryOptions());
        using var database = new MemoryDatabase(paths, options, NullLogger<MemoryDatabase>.Instance);
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
