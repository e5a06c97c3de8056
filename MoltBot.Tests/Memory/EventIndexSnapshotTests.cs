using MoltBot.Contracts.Memory;
using MoltBot.Memory;

namespace MoltBot.Tests.Memory;

/// <summary>Sealed event-log segments carry an index snapshot, so a start does not rescan them.</summary>
public class EventIndexSnapshotTests
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly Dictionary<string, string?> SmallSegments = new() { ["Memory:EventSegmentMegabytes"] = "1" };

    private static async Task<MemoryHarness> FillAsync()
    {
        var harness = await MemoryHarness.StartAsync(settings: SmallSegments);
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        string padding = new('x', 1000);
        var log = harness.Get<IEventLog>();
        // ~3 MB of events over three conversations: three or more segments.
        for (int i = 0; i < 3000; i += 100)
        {
            await Task.WhenAll(Enumerable.Range(i, 100).Select(j => log.AppendAsync(
                new LoggedEvent("web:c" + j % 3, "web:u", j % 5 == 0 ? "dialog.clarify" : EventKinds.MessageIn, now - 3000 + j, j + padding), None).AsTask()));
        }
        // A small last event, so the active segment is not empty and the replay mark (the log's end) lies in it: every
        // sealed segment is then below the mark and may come from its snapshot.
        await log.AppendAsync(new LoggedEvent("web:c0", "web:u", EventKinds.MessageIn, now, "last"), None);
        return harness;
    }

    private static async Task<List<string>> AnswersAsync(MemoryHarness h)
    {
        var log = h.Get<IEventLog>();
        var all = (await log.RangeAsync(null, 0, long.MaxValue / 2, int.MaxValue, None)).Select(e => $"{e.ConversationKey}|{e.Kind}|{e.TimestampMs}|{e.Text![..4]}");
        var c1 = (await log.RangeAsync("web:c1", 0, long.MaxValue / 2, int.MaxValue, None)).Select(e => "c1:" + e.Text![..4]);
        var recent = (await h.Get<IShortTermMemory>().RecentAsync("web:c2", 5, None)).Select(t => "st:" + t.Text[..4]);
        return all.Concat(c1).Concat(recent).ToList();
    }

    private static string[] Segments(MemoryHarness h) => Directory.GetFiles(h.DatabaseFile + ".events", "*.seg").Order().ToArray();

    private static string SnapshotOf(string segment) => Path.ChangeExtension(segment, ".idx");

    [Fact]
    public async Task Sealed_segments_are_indexed_from_their_snapshots_and_answer_exactly_as_a_full_scan()
    {
        var first = await FillAsync();
        string root = first.Root;
        var expected = await AnswersAsync(first);
        var segments = Segments(first);
        Assert.True(segments.Length >= 3);
        await first.RestartableStopAsync();
        // Every sealed segment has its snapshot; the active (last) one has none.
        Assert.All(segments[..^1], s => Assert.True(File.Exists(SnapshotOf(s)), s));
        Assert.False(File.Exists(SnapshotOf(segments[^1])));

        var second = await MemoryHarness.StartAsync(root, SmallSegments);
        Assert.Equal(segments.Length - 1, second.Get<EventLog>().SnapshotsUsed);
        Assert.Equal(expected, await AnswersAsync(second));
        await second.RestartableStopAsync();

        // The same answers with no snapshot at all: the scan they replace.
        foreach (var s in segments) File.Delete(SnapshotOf(s));
        await using var third = await MemoryHarness.StartAsync(root, SmallSegments);
        Assert.Equal(0, third.Get<EventLog>().SnapshotsUsed);
        Assert.Equal(expected, await AnswersAsync(third));
    }

    [Fact]
    public async Task A_corrupt_stale_or_missing_snapshot_falls_back_to_the_scan_and_is_written_again_and_a_torn_tail_is_still_cut_off()
    {
        var first = await FillAsync();
        string root = first.Root;
        var expected = await AnswersAsync(first);
        var segments = Segments(first);
        await first.RestartableStopAsync();
        int sealedCount = segments.Length - 1;

        File.Copy(SnapshotOf(segments[0]), SnapshotOf(segments[1]), overwrite: true); // another segment's: stale
        var corrupt = await File.ReadAllBytesAsync(SnapshotOf(segments[0]));
        corrupt[corrupt.Length / 2] ^= 0x55;
        await File.WriteAllBytesAsync(SnapshotOf(segments[0]), corrupt);
        if (sealedCount > 2) File.Delete(SnapshotOf(segments[2])); // missing
        // What a crash mid-write leaves at the end of the active segment.
        long goodLength = new FileInfo(segments[^1]).Length;
        await using (var f = new FileStream(segments[^1], FileMode.Append)) f.Write([0x4D, 0x42, 0x45, 0x56, 0xFF, 0x00, 0x00, 0x00, 1, 2, 3]);

        var second = await MemoryHarness.StartAsync(root, SmallSegments);
        int broken = sealedCount > 2 ? 3 : 2;
        Assert.Equal(sealedCount - broken, second.Get<EventLog>().SnapshotsUsed);
        Assert.Equal(expected, await AnswersAsync(second));
        Assert.Equal(goodLength, new FileInfo(segments[^1]).Length);
        await second.RestartableStopAsync();

        // The scan wrote them again.
        await using var third = await MemoryHarness.StartAsync(root, SmallSegments);
        Assert.Equal(sealedCount, third.Get<EventLog>().SnapshotsUsed);
        Assert.Equal(expected, await AnswersAsync(third));
    }
}
