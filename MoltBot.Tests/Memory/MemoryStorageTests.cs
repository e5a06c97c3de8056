using LiteDB;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Admin;
using MoltBot.Contracts.Configuration;
using MoltBot.Contracts.Memory;
using MoltBot.Memory;
using MoltBot.Memory.Storage;

namespace MoltBot.Tests.Memory;

public class MemoryStorageTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    /// <summary>
    /// LiteDB 5 lets a reader see a collection that a writer's uncommitted transaction is still creating, and that read
    /// fails ("page type must be collection page"): the first profile write racing the first profile read failed
    /// whole turns. So every LiteDB collection exists from the start.
    /// </summary>
    [Fact]
    public async Task Every_collection_exists_right_after_start_so_no_reader_races_its_creation()
    {
        await using var harness = await MemoryHarness.StartAsync();
        var db = harness.Get<MoltBot.Memory.Storage.MemoryDatabase>().Db;
        string[] expected = [Collections.Messages, Collections.Conversations, Collections.Facts, Collections.Vectors, Collections.Profiles];
        Assert.All(expected, name => Assert.True(db.CollectionExists(name), $"collection '{name}' is created lazily"));
    }

    [Fact]
    public async Task A_corrupt_database_file_stops_start_up_naming_the_file_and_is_not_overwritten()
    {
        string root = Directory.CreateTempSubdirectory("moltbot-memory-test").FullName;
        string file = Path.Combine(root, "data", "memory", "moltbot.db");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var garbage = new byte[20_000];
        new Random(1).NextBytes(garbage);
        await File.WriteAllBytesAsync(file, garbage);

        var ex = await Assert.ThrowsAsync<StartupException>(() => MemoryHarness.StartAsync(root));

        Assert.Contains(file, ex.Message);
        Assert.Contains("corrupt", ex.Message);
        Assert.Equal(garbage, await File.ReadAllBytesAsync(file));
        Directory.Delete(root, true);
    }

    [Fact]
    public async Task A_database_file_in_use_by_another_instance_stops_start_up_naming_the_file()
    {
        await using var first = await MemoryHarness.StartAsync();

        var ex = await Assert.ThrowsAsync<StartupException>(() => MemoryHarness.StartAsync(first.Root));

        Assert.Contains(first.DatabaseFile, ex.Message);
        Assert.Contains("locked", ex.Message);
        // The first instance is unaffected.
        await first.Get<IEventLog>().AppendAsync(new LoggedEvent("web:c", "web:u", EventKinds.MessageIn, 1, "still works"), None);
    }

    [Theory]
    [InlineData("Memory:ShortTermTurns", "21", "Memory:ShortTermTurns must be between 1 and 20")]
    [InlineData("Memory:ProfileCacheCapacity", "0", "Memory:ProfileCacheCapacity must be between 1")]
    [InlineData("Memory:HnswM", "1", "Memory:HnswM must be between 2 and 128")]
    [InlineData("Memory:DatabaseCheckpointPages", "9", "Memory:DatabaseCheckpointPages must be between 10 and 100000")]
    [InlineData("Memory:DatabaseFile", "../escape.db", "must be a plain file name")]
    public async Task Out_of_range_options_are_refused_with_the_key_named(string key, string value, string message)
    {
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => MemoryHarness.StartAsync(settings: new Dictionary<string, string?> { [key] = value }));
        Assert.Contains(message, ex.Message);
    }

    [Fact]
    public async Task Storage_readiness_check_is_healthy_once_storage_is_open()
    {
        string root = Directory.CreateTempSubdirectory("moltbot-memory-test").FullName;
        await using (var provider = MemoryHarness.BuildProvider(root, null, null, null))
        {
            var registration = provider.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations.Single(r => r.Name == "storage");
            Assert.Contains("ready", registration.Tags);
            var before = await registration.Factory(provider).CheckHealthAsync(new HealthCheckContext { Registration = registration });
            Assert.Equal(HealthStatus.Unhealthy, before.Status);
        }
        await using var harness = await MemoryHarness.StartAsync(root);
        var check = harness.Get<IOptions<HealthCheckServiceOptions>>().Value.Registrations.Single(r => r.Name == "storage");
        var after = await check.Factory(harness.Services).CheckHealthAsync(new HealthCheckContext { Registration = check });
        Assert.Equal(HealthStatus.Healthy, after.Status);
    }

    [Fact]
    public async Task Event_log_answers_range_queries_by_conversation_and_time_with_ms_timestamps()
    {
        await using var harness = await MemoryHarness.StartAsync();
        var log = harness.Get<IEventLog>();
        long t0 = 1_795_000_000_123;
        for (int i = 0; i < 30; i++)
        {
            await log.AppendAsync(new LoggedEvent(i % 2 == 0 ? "web:a" : "web:b", "web:u", EventKinds.MessageIn, t0 + i * 7, "m" + i), None);
        }

        var a = await log.RangeAsync("web:a", t0 + 14, t0 + 70, 100, None);
        Assert.Equal(["m2", "m4", "m6", "m8", "m10"], a.Select(e => e.Text));
        Assert.Equal(t0 + 14, a[0].TimestampMs);
        Assert.All(a, e => Assert.Equal("web:a", e.ConversationKey));

        var all = await log.RangeAsync(null, t0, t0 + 20, 100, None);
        Assert.Equal(["m0", "m1", "m2"], all.Select(e => e.Text));
        Assert.Equal(2, (await log.RangeAsync(null, t0, t0 + 1000, 2, None)).Count);
        Assert.Empty(await log.RangeAsync("web:zzz", 0, long.MaxValue / 2, 10, None));
    }

    [Fact]
    public async Task Retention_removes_only_events_older_than_the_configured_days()
    {
        var clock = new FakeClock();
        await using var harness = await MemoryHarness.StartAsync(settings: new Dictionary<string, string?> { ["Memory:EventRetentionDays"] = "7" }, clock: clock);
        var log = harness.Get<IEventLog>();
        long now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        await log.AppendAsync(new LoggedEvent("web:c", "web:u", EventKinds.MessageIn, now - TimeSpan.FromDays(8).Ticks / 10_000, "old"), None);
        await log.AppendAsync(new LoggedEvent("web:c", "web:u", EventKinds.MessageIn, now - TimeSpan.FromDays(6).Ticks / 10_000, "recent"), None);

        int removed = await harness.Get<EventLog>().ApplyRetentionAsync(None);

        Assert.Equal(1, removed);
        Assert.Equal(["recent"], (await log.RangeAsync("web:c", 0, now, 10, None)).Select(e => e.Text));
    }

    [Fact]
    public async Task Short_term_memory_keeps_the_last_turns_and_is_rebuilt_from_the_event_log_after_restart()
    {
        var harness = await MemoryHarness.StartAsync(settings: new Dictionary<string, string?> { ["Memory:ShortTermTurns"] = "5" });
        string root = harness.Root;
        var store = harness.Get<IConversationStore>();
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Assert.Empty(await harness.Get<IShortTermMemory>().RecentAsync("web:c1", 5, None));
        for (int i = 0; i < 8; i++)
        {
            await store.RecordMessageAsync(new ConversationMessage("m" + i, "web:c1", "web:u1", i % 2 == 0 ? "in" : "out", "turn " + i, now + i), None);
        }
        var live = await harness.Get<IShortTermMemory>().RecentAsync("web:c1", 10, None);
        Assert.Equal(["turn 3", "turn 4", "turn 5", "turn 6", "turn 7"], live.Select(t => t.Text));
        await harness.RestartableStopAsync();

        await using var restarted = await MemoryHarness.StartAsync(root, new Dictionary<string, string?> { ["Memory:ShortTermTurns"] = "5" });
        var rebuilt = await restarted.Get<IShortTermMemory>().RecentAsync("web:c1", 5, None);
        Assert.Equal(["turn 3", "turn 4", "turn 5", "turn 6", "turn 7"], rebuilt.Select(t => t.Text));
        Assert.Equal(["assistant", "user", "assistant", "user", "assistant"], rebuilt.Select(t => t.Role));
        Assert.Equal(["turn 6", "turn 7"], (await restarted.Get<IShortTermMemory>().RecentAsync("web:c1", 2, None)).Select(t => t.Text));
    }

    [Fact]
    public async Task Profiles_survive_cache_eviction_and_restart()
    {
        var settings = new Dictionary<string, string?> { ["Memory:ProfileCacheCapacity"] = "2" };
        var harness = await MemoryHarness.StartAsync(settings: settings);
        string root = harness.Root;
        var store = harness.Get<UserProfileStore>();
        for (int i = 0; i < 5; i++)
        {
            await store.SaveAsync(new UserProfile("web:u" + i)
            {
                DisplayName = "User " + i, Language = "zh", City = "Shanghai", TimeZone = "Asia/Shanghai",
                Preferences = new Dictionary<string, string> { ["units"] = "metric" }, UpdatedMs = 1000 + i,
            }, None);
        }
        Assert.True(store.Cache.Count <= 2);
        Assert.True(store.Cache.Evictions >= 3);
        for (int i = 0; i < 5; i++) Assert.Equal("User " + i, (await store.GetAsync("web:u" + i, None)).DisplayName);
        await harness.RestartableStopAsync();

        await using var restarted = await MemoryHarness.StartAsync(root, settings);
        var p = await restarted.Get<IUserProfileStore>().GetAsync("web:u0", None);
        Assert.Equal(("User 0", "zh", "Shanghai", "Asia/Shanghai", 1000L, "metric"), (p.DisplayName, p.Language, p.City, p.TimeZone, p.UpdatedMs, p.Preferences["units"]));
        Assert.Null((await restarted.Get<IUserProfileStore>().GetAsync("web:nobody", None)).DisplayName);
    }

    [Fact]
    public async Task Group_commit_batches_concurrent_writes_and_acknowledges_each()
    {
        await using var harness = await MemoryHarness.StartAsync();
        var log = harness.Get<IEventLog>();
        var writer = harness.Get<GroupCommitWriter>();
        long commitsBefore = writer.Commits;

        await Task.WhenAll(Enumerable.Range(0, 2000).Select(i =>
            log.AppendAsync(new LoggedEvent("web:c" + i % 10, "web:u", EventKinds.MessageIn, 5000 + i, "e" + i), None).AsTask()));

        long commits = writer.Commits - commitsBefore;
        Assert.True(commits < 2000, $"{commits} commits for 2000 writes: nothing was grouped");
        Assert.Equal(2000, (await log.RangeAsync(null, 0, 100_000, 10_000, None)).Count);
    }

    [Fact]
    public async Task A_failing_write_fails_alone_and_its_batch_still_commits()
    {
        await using var harness = await MemoryHarness.StartAsync();
        var writer = harness.Get<GroupCommitWriter>();
        var good = Enumerable.Range(0, 50).Select(i => writer.WriteAsync(db => db.GetCollection<ProfileDoc>(Collections.Profiles).Insert(new ProfileDoc { Id = "p" + i }), None).AsTask()).ToList();
        var bad = writer.WriteAsync(db => db.GetCollection<ProfileDoc>(Collections.Profiles).Insert(new ProfileDoc { Id = "p1" }), None).AsTask();

        await Task.WhenAll(good);
        await Assert.ThrowsAsync<LiteException>(() => bad);
        Assert.Equal(50, harness.Get<MemoryDatabase>().Collection<ProfileDoc>(Collections.Profiles).Count());
    }

    [Fact]
    public async Task Conversation_reader_lists_conversations_and_their_messages()
    {
        await using var harness = await MemoryHarness.StartAsync();
        var store = harness.Get<IConversationStore>();
        await store.RecordMessageAsync(new ConversationMessage("a1", "web:a", "web:u1", "in", "hello", 100), None);
        await store.RecordMessageAsync(new ConversationMessage("a1:out", "web:a", "web:u1", "out", "hi!", 101), None);
        await store.RecordMessageAsync(new ConversationMessage("b1", "telegram:b", "telegram:u2", "in", "你好", 200), None);
        await store.RecordMessageAsync(new ConversationMessage("b1", "telegram:b", "telegram:u2", "in", "你好", 200), None); // replay

        var reader = harness.Get<IConversationReader>();
        var list = await reader.ListAsync(0, 10, None);
        Assert.Equal([new ConversationSummary("telegram:b", "telegram:u2", 1, 200), new ConversationSummary("web:a", "web:u1", 2, 101)], list);
        var messages = await reader.MessagesAsync("web:a", 10, None);
        Assert.Equal(["hello", "hi!"], messages.Select(m => m.Text));
        Assert.Equal(["in", "out"], messages.Select(m => m.Direction));
    }

    [Fact]
    public async Task Vector_index_is_reconciled_with_LiteDB_after_a_crash_and_rebuilt_when_damaged()
    {
        var harness = await MemoryHarness.StartAsync();
        string root = harness.Root;
        var facts = harness.Get<IFactMemory>();
        await facts.RememberAsync("web:u1", "my locker code is 4711", None);
        string gone = await facts.RememberAsync("web:u1", "the wifi password is tulips", None);
        await harness.RestartableStopAsync(); // clean stop: snapshot has both facts
        string snapshot = Path.Combine(root, "data", "memory", "moltbot.db.hnsw");
        byte[] stale = await File.ReadAllBytesAsync(snapshot);

        harness = await MemoryHarness.StartAsync(root);
        await harness.Get<IFactMemory>().RememberAsync("web:u1", "my bike is parked at the station", None);
        await harness.Get<GroupCommitWriter>().WriteAsync(db =>
        {
            var v = db.GetCollection<FactDoc>(Collections.Facts).FindById(gone).VectorId;
            db.GetCollection<FactDoc>(Collections.Facts).Delete(gone);
            db.GetCollection<VectorDoc>(Collections.Vectors).Delete(v);
        }, None);
        await harness.RestartableStopAsync();
        await File.WriteAllBytesAsync(snapshot, stale); // as if the process died before the next snapshot

        harness = await MemoryHarness.StartAsync(root);
        var index = harness.Get<VectorMemory>().Index!;
        Assert.Equal(2, index.Count);
        var recalled = await harness.Get<IFactMemory>().RecallAsync("web:u1", "where is my bike parked", 3, None);
        Assert.Equal("my bike is parked at the station", recalled[0].Text);
        Assert.DoesNotContain(recalled, r => r.Text.Contains("tulips"));
        await harness.RestartableStopAsync();

        await File.WriteAllBytesAsync(snapshot, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]);
        await using var rebuilt = await MemoryHarness.StartAsync(root);
        Assert.Equal(2, rebuilt.Get<VectorMemory>().Index!.Count);
        Assert.Equal("my locker code is 4711", (await rebuilt.Get<IFactMemory>().RecallAsync("web:u1", "what is my locker code", 1, None))[0].Text);
    }

    [Fact]
    public async Task Export_then_delete_leaves_nothing_about_the_user_in_any_collection_or_the_index()
    {
        var harness = await MemoryHarness.StartAsync();
        string root = harness.Root;
        const string alice = "web:alice", bob = "web:bob";
        var store = harness.Get<IConversationStore>();
        var embedder = new HashEmbedder();
        foreach (var (user, conv, text) in new[] { (alice, "web:ca", "alice secret pumpkin"), (bob, "web:cb", "bob likes chess") })
        {
            await store.RecordMessageAsync(new ConversationMessage(user + "-m1", conv, user, "in", text, 100) { Embedding = embedder.Embed(text), Intent = "smalltalk", Language = "en" }, None);
            await store.RecordMessageAsync(new ConversationMessage(user + "-m1:out", conv, user, "out", "reply to " + text, 101), None);
            await harness.Get<IFactMemory>().RememberAsync(user, user + " fact zebra", None);
            await harness.Get<IUserProfileStore>().SaveAsync(new UserProfile(user) { DisplayName = user + " name" }, None);
            await harness.Get<IDialogStateStore>().SaveAsync(new DialogState(conv, user) { ActiveIntent = "reminder_create", PendingSlot = "datetime" }, None);
            await harness.Get<IEventLog>().AppendAsync(new LoggedEvent(conv, user, "dialog.clarify", 102, "reminder_create"), None);
        }
        await harness.Get<IShortTermMemory>().RecentAsync("web:ca", 5, None);

        string json = await harness.Get<IUserDataRights>().ExportJsonAsync(alice, None);
        Assert.Contains("alice secret pumpkin", json);
        Assert.Contains("web:alice fact zebra", json);
        Assert.Contains("web:alice name", json);
        Assert.Contains("dialog.clarify", json);
        Assert.DoesNotContain("bob", json);

        int removed = await harness.Get<IUserDataRights>().DeleteAsync(alice, None);
        Assert.True(removed >= 9, $"{removed} items removed");

        AssertNothingAbout(harness, alice, "alice", "web:ca");
        Assert.Empty(await harness.Get<IFactMemory>().RecallAsync(alice, "alice secret pumpkin zebra", 10, None));
        Assert.Empty(await harness.Get<IShortTermMemory>().RecentAsync("web:ca", 5, None));
        Assert.Null(await harness.Get<IDialogStateStore>().GetAsync("web:ca", None));
        Assert.Null((await harness.Get<IUserProfileStore>().GetAsync(alice, None)).DisplayName);
        // Bob is untouched.
        Assert.Contains("bob likes chess", await harness.Get<IUserDataRights>().ExportJsonAsync(bob, None));
        Assert.Equal(2, harness.Get<VectorMemory>().Index!.Count);
        Assert.Equal(3, harness.Get<EventLog>().ForUser(bob).Count);
        await harness.RestartableStopAsync();

        // After a restart (snapshot + LiteDB reloaded), still nothing.
        await using var restarted = await MemoryHarness.StartAsync(root);
        AssertNothingAbout(restarted, alice, "alice", "web:ca");
        Assert.Empty(await restarted.Get<IFactMemory>().RecallAsync(alice, "alice secret pumpkin zebra", 10, None));
    }

    /// <summary>Scans every document of every collection, every event-log file, and every vector in the index, for any trace.</summary>
    private static void AssertNothingAbout(MemoryHarness harness, params string[] needles)
    {
        var db = harness.Get<MemoryDatabase>().Db;
        foreach (string name in db.GetCollectionNames())
        {
            foreach (var doc in db.GetCollection(name).FindAll())
            {
                string text = LiteDB.JsonSerializer.Serialize(doc);
                foreach (string needle in needles) Assert.False(text.Contains(needle, StringComparison.OrdinalIgnoreCase), $"'{needle}' found in {name}: {text}");
            }
        }
        // The event log's segment files, byte for byte (a deleted event must not linger in a file).
        foreach (string segment in Directory.GetFiles(harness.DatabaseFile + ".events"))
        {
            string raw = System.Text.Encoding.UTF8.GetString(File.ReadAllBytes(segment));
            foreach (string needle in needles) Assert.False(raw.Contains(needle, StringComparison.OrdinalIgnoreCase), $"'{needle}' found in {segment}");
        }
        var vectors = harness.Get<VectorMemory>();
        var index = vectors.Index!;
        var liveIds = index.Ids().ToHashSet();
        var docIds = db.GetCollection<VectorDoc>(Collections.Vectors).FindAll().Select(d => d.Id).ToHashSet();
        Assert.Equal(docIds, liveIds);
        // No index entry still matches the deleted texts' embeddings exactly.
        var embedder = new HashEmbedder();
        foreach (var text in new[] { "alice secret pumpkin", "web:alice fact zebra" })
        {
            var hits = index.Search(embedder.Embed(text), 10);
            Assert.DoesNotContain(hits, h => h.Similarity > 0.999f);
        }
    }
}
