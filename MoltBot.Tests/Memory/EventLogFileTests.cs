using LiteDB;
using MoltBot.Contracts.Configuration;
using MoltBot.Contracts.Memory;
using MoltBot.Memory;
using MoltBot.Memory.Storage;

namespace MoltBot.Tests.Memory;

/// <summary>The event log's segment files: torn tails, corruption, rolling, rewrites, migration from LiteDB.</summary>
public class EventLogFileTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    // Recent timestamps: retention (90 days by default) runs at every start.
    private static readonly long Now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private static string SegmentDirectory(MemoryHarness h) => h.DatabaseFile + ".events";

    private static async Task<List<string?>> TextsAsync(MemoryHarness h, string? conversation = null) =>
        (await h.Get<IEventLog>().RangeAsync(conversation, 0, long.MaxValue / 2, int.MaxValue, None)).Select(e => e.Text).ToList();

    [Fact]
    public async Task A_torn_write_at_the_end_is_cut_off_and_the_log_keeps_working()
    {
        var first = await MemoryHarness.StartAsync();
        string root = first.Root;
        for (int i = 0; i < 10; i++) await first.Get<IEventLog>().AppendAsync(new LoggedEvent("web:c", "web:u", EventKinds.MessageIn, Now + i, "e" + i), None);
        string segment = Directory.GetFiles(SegmentDirectory(first), "*.seg").Single();
        await first.RestartableStopAsync();
        long goodLength = new FileInfo(segment).Length;
        // What a crash mid-write leaves: the start of a frame (valid magic, a length past the end) and nothing more.
        await using (var f = new FileStream(segment, FileMode.Append)) f.Write([0x4D, 0x42, 0x45, 0x56, 0xFF, 0x00, 0x00, 0x00, 1, 2, 3]);

        var second = await MemoryHarness.StartAsync(root);
        Assert.Equal(goodLength, new FileInfo(segment).Length);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => "e" + i), await TextsAsync(second));
        await second.Get<IEventLog>().AppendAsync(new LoggedEvent("web:c", "web:u", EventKinds.MessageIn, Now + 2000, "after"), None);
        await second.RestartableStopAsync();

        await using var third = await MemoryHarness.StartAsync(root);
        Assert.Equal("after", (await TextsAsync(third)).Last());
        Assert.Equal(11, (await TextsAsync(third)).Count);
    }

    [Fact]
    public async Task Damage_followed_by_acknowledged_data_stops_start_up_naming_the_file_and_leaves_it_untouched()
    {
        var first = await MemoryHarness.StartAsync();
        string root = first.Root;
        // Two commits = two frames; damage the first one.
        await first.Get<IEventLog>().AppendAsync(new LoggedEvent("web:c", "web:u", EventKinds.MessageIn, Now + 1, "first frame"), None);
        await first.Get<IEventLog>().AppendAsync(new LoggedEvent("web:c", "web:u", EventKinds.MessageIn, Now + 2, "second frame"), None);
        string segment = Directory.GetFiles(SegmentDirectory(first), "*.seg").Single();
        await first.RestartableStopAsync();
        var bytes = await File.ReadAllBytesAsync(segment);
        bytes[20] ^= 0xFF;
        await File.WriteAllBytesAsync(segment, bytes);

        var ex = await Assert.ThrowsAsync<StartupException>(() => MemoryHarness.StartAsync(root));

        Assert.Contains(segment, ex.Message);
        Assert.Contains("corrupt", ex.Message);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(segment));
        // The LiteDB lock was released with the failed start: fixing the file is enough to start again.
        Directory.Move(Path.GetDirectoryName(segment)!, Path.GetDirectoryName(segment)! + ".broken");
        await using var fixedStart = await MemoryHarness.StartAsync(root);
        Assert.Empty(await TextsAsync(fixedStart));
    }

    [Fact]
    public async Task A_stray_file_in_the_event_log_directory_stops_start_up()
    {
        string root = Directory.CreateTempSubdirectory("moltbot-memory-test").FullName;
        string dir = Path.Combine(root, "data", "memory", "moltbot.db.events");
        Directory.CreateDirectory(dir);
        await File.WriteAllTextAsync(Path.Combine(dir, "notes.seg"), "hello");

        var ex = await Assert.ThrowsAsync<StartupException>(() => MemoryHarness.StartAsync(root));

        Assert.Contains("notes.seg", ex.Message);
        Directory.Delete(root, true);
    }

    [Fact]
    public async Task Segments_roll_at_the_configured_size_and_queries_retention_and_restart_span_them()
    {
        var clock = new FakeClock();
        var settings = new Dictionary<string, string?> { ["Memory:EventSegmentMegabytes"] = "1", ["Memory:EventRetentionDays"] = "30" };
        var first = await MemoryHarness.StartAsync(settings: settings, clock: clock);
        string root = first.Root;
        long now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        long day = 86_400_000;
        string padding = new('x', 1000);
        // 3,000 events of ~1 KB over 60 days, two conversations, in time order: about three segments.
        var log = first.Get<IEventLog>();
        for (int i = 0; i < 3000; i += 100)
        {
            await Task.WhenAll(Enumerable.Range(i, 100).Select(j =>
                log.AppendAsync(new LoggedEvent(j % 2 == 0 ? "web:even" : "web:odd", "web:u", EventKinds.MessageIn, now - 60 * day + j * 20 * day / 1000, j + padding), None).AsTask()));
        }
        Assert.True(Directory.GetFiles(SegmentDirectory(first), "*.seg").Length >= 3);
        var even = await log.RangeAsync("web:even", now - 60 * day, now, int.MaxValue, None);
        Assert.Equal(1500, even.Count);
        Assert.True(even.Zip(even.Skip(1)).All(p => p.First.TimestampMs <= p.Second.TimestampMs));
        Assert.Equal(3000, (await TextsAsync(first)).Count);

        int removed = await first.Get<EventLog>().ApplyRetentionAsync(None);

        long cutoff = now - 30 * day;
        int expectedRemoved = Enumerable.Range(0, 3000).Count(j => now - 60 * day + j * 20 * day / 1000 < cutoff);
        Assert.Equal(expectedRemoved, removed);
        var left = await log.RangeAsync(null, 0, long.MaxValue / 2, int.MaxValue, None);
        Assert.Equal(3000 - expectedRemoved, left.Count);
        Assert.All(left, e => Assert.True(e.TimestampMs >= cutoff));
        await first.RestartableStopAsync();

        await using var second = await MemoryHarness.StartAsync(root, settings, clock);
        var reloaded = await second.Get<IEventLog>().RangeAsync(null, 0, long.MaxValue / 2, int.MaxValue, None);
        Assert.Equal(left.Select(e => e.Text), reloaded.Select(e => e.Text));
        Assert.Equal(left.Count(e => e.ConversationKey == "web:odd"), (await second.Get<IEventLog>().RangeAsync("web:odd", 0, long.MaxValue / 2, int.MaxValue, None)).Count);
    }

    [Fact]
    public async Task Same_millisecond_events_keep_their_append_order_and_late_timestamps_are_placed_in_time_order()
    {
        await using var h = await MemoryHarness.StartAsync();
        var log = h.Get<IEventLog>();
        foreach (var (ts, text) in new[] { (Now + 100, "a"), (Now + 100, "b"), (Now + 300, "d"), (Now + 200, "c"), (Now + 100, "b2") })
        {
            await log.AppendAsync(new LoggedEvent("web:c", "web:u", EventKinds.MessageIn, ts, text), None);
        }
        Assert.Equal(["a", "b", "b2", "c", "d"], await TextsAsync(h, "web:c"));
        Assert.Equal(["b2", "c"], (await log.RangeAsync("web:c", Now + 100, Now + 250, 10, None)).Skip(2).Select(e => e.Text));
    }

    [Fact]
    public async Task Events_an_earlier_version_kept_in_LiteDB_move_into_the_log_once()
    {
        string root = Directory.CreateTempSubdirectory("moltbot-memory-test").FullName;
        string file = Path.Combine(root, "data", "memory", "moltbot.db");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        using (var db = new LiteDatabase(new ConnectionString { Filename = file, Connection = ConnectionType.Direct }))
        {
            var events = db.GetCollection("events");
            events.Insert(new BsonDocument { ["_id"] = ObjectId.NewObjectId(), ["Conv"] = "web:c", ["User"] = "web:u", ["Kind"] = EventKinds.MessageIn, ["Ts"] = Now + 20, ["ConvTime"] = "web:c|" + (Now + 20), ["Text"] = "second", ["Data"] = BsonValue.Null, ["Ref"] = "m2" });
            events.Insert(new BsonDocument { ["_id"] = ObjectId.NewObjectId(), ["Conv"] = "web:c", ["User"] = "web:u", ["Kind"] = "dialog.clarify", ["Ts"] = Now + 10, ["ConvTime"] = "web:c|" + (Now + 10), ["Text"] = "first", ["Data"] = "{\"x\":1}", ["Ref"] = BsonValue.Null });
        }

        var first = await MemoryHarness.StartAsync(root);
        var migrated = await first.Get<IEventLog>().RangeAsync("web:c", Now, Now + 100, 10, None);
        Assert.Equal(["first", "second"], migrated.Select(e => e.Text));
        Assert.Equal("{\"x\":1}", migrated[0].DataJson);
        Assert.False(first.Get<MemoryDatabase>().Db.CollectionExists("events"));
        await first.RestartableStopAsync();

        await using var second = await MemoryHarness.StartAsync(root);
        Assert.Equal(["first", "second"], await TextsAsync(second));
    }
}
