using System.Diagnostics;
using Xunit.Abstractions;
using MoltBot.Contracts.Memory;
using MoltBot.Memory;
using MoltBot.Memory.Storage;

namespace MoltBot.Tests.Memory;

public class CrashDurabilityTests(ITestOutputHelper output)
{
    [Fact]
    public Task Killing_the_process_mid_load_loses_no_acknowledged_message_in_the_log_LiteDB_or_vector_recall() => KillMidLoadAsync(turns: false);

    /// <summary>
    /// The same with turns: LiteDB gets them as buckets the writer holds for up to Memory:ConversationFlushMilliseconds
    /// (TurnBuckets), so the kill always finds turns held; the start-up replay restores them, once.
    /// </summary>
    [Fact]
    public Task Killing_the_process_while_turns_are_held_for_their_buckets_loses_and_duplicates_nothing() => KillMidLoadAsync(turns: true);

    private async Task KillMidLoadAsync(bool turns)
    {
        string root = Directory.CreateTempSubdirectory("moltbot-crash-test").FullName;
        var acked = new HashSet<string>();
        string dll = typeof(CrashChildProgram).Assembly.Location;
        string host = Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
        var start = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { dll, "memory-crash-child", root }) start.ArgumentList.Add(a);
        if (turns) start.ArgumentList.Add("turns");

        using (var child = Process.Start(start)!)
        {
            var stderr = child.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            try
            {
                bool flushed = !turns; // turns: also wait until the child's read barrier has written buckets
                while (acked.Count < 3000 || !flushed)
                {
                    string? line = await child.StandardOutput.ReadLineAsync(timeout.Token);
                    if (line is null) Assert.Fail("child exited early: " + await stderr);
                    if (line.StartsWith("ACK ")) acked.Add(line[4..]);
                    else if (line == "FLUSHED") flushed = true;
                }
            }
            finally
            {
                child.Kill(entireProcessTree: true); // SIGKILL: no shutdown, no flush, no snapshot
            }
            // Acks printed before the kill that were still in the pipe count too.
            while (await child.StandardOutput.ReadLineAsync() is { } line)
            {
                if (line.StartsWith("ACK ")) acked.Add(line[4..]);
            }
            await child.WaitForExitAsync();
        }

        await using var reopened = await MemoryHarness.StartAsync(root);
        var restored = reopened.Get<LogReplay>().Restored;
        string context = $"{acked.Count} acknowledged; the start-up replay restored {restored.Messages} messages and {restored.Vectors} vectors into LiteDB";
        output.WriteLine(context);

        // The event log: every acknowledged message, once.
        var logged = (await reopened.Get<IEventLog>().RangeAsync(null, 0, long.MaxValue / 2, int.MaxValue, CancellationToken.None))
            .GroupBy(e => e.Text!).ToDictionary(g => g.Key, g => g.Count());
        var lost = acked.Where(id => !logged.ContainsKey(id)).ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} acknowledged messages missing from the event log, e.g. {string.Join(", ", lost.Take(5))}; {context}");
        Assert.All(logged, kv => Assert.Equal(1, kv.Value));

        // LiteDB: every acknowledged message, once, with counters that match.
        var db = reopened.Get<MemoryDatabase>().Db;
        var documents = db.GetCollection<MessageDoc>(Collections.Messages).FindAll().ToList();
        var messages = documents.SelectMany(d => d.Parts()).ToList();
        var stored = messages.Select(m => m.Id).ToHashSet();
        lost = acked.Where(id => !stored.Contains(id)).ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} acknowledged messages missing from LiteDB, e.g. {string.Join(", ", lost.Take(5))}; {context}");
        var twice = messages.GroupBy(m => (m.Conv, m.Id)).Where(g => g.Count() > 1).Select(g => g.Key.Id).ToList();
        Assert.True(twice.Count == 0, $"{twice.Count} messages stored more than once, e.g. {string.Join(", ", twice.Take(5))}; {context}");
        if (turns) Assert.Contains(documents, d => d.More is not null); // the turns were written as buckets
        foreach (var conversation in db.GetCollection<ConversationDoc>(Collections.Conversations).FindAll())
        {
            Assert.Equal(messages.Count(m => m.Conv == conversation.Id), conversation.MessageCount);
        }

        // Vector recall: one vector per stored inbound message, all of them in the HNSW index.
        var vectors = db.GetCollection<VectorDoc>(Collections.Vectors).FindAll().ToList();
        Assert.Equal(vectors.Count, vectors.Select(v => v.RefId).Distinct().Count());
        var vectorRefs = vectors.Select(v => v.RefId).ToHashSet();
        lost = acked.Where(id => (turns ? !id.EndsWith(":out", StringComparison.Ordinal) : Sequence(id) % 2 == 0) && !vectorRefs.Contains(id)).ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} acknowledged messages missing from vector recall, e.g. {string.Join(", ", lost.Take(5))}; {context}");
        var index = reopened.Get<VectorMemory>().Index!;
        Assert.All(vectors, v => Assert.True(index.Contains(v.Id), $"vector {v.Id} ({v.RefId}) is not in the HNSW index"));
        Assert.Equal(vectors.Count, index.Count);

        // Short-term memory: a conversation's last turns are its last stored messages.
        var recent = await reopened.Get<IShortTermMemory>().RecentAsync("web:crash0", 5, CancellationToken.None);
        var last = messages.Where(m => m.Conv == "web:crash0").OrderBy(m => m.Ts).ThenBy(m => Sequence(m.Id)).ThenBy(m => m.Direction).TakeLast(5).Select(m => m.Text);
        Assert.Equal(last.Order(), recent.Select(t => t.Text).Order());
        Assert.True(acked.Count >= 3000);
    }

    // "w3-17" and "w3-17:out" → 17.
    private static int Sequence(string id)
    {
        int dash = id.IndexOf('-'), colon = id.IndexOf(':');
        return int.Parse(id[(dash + 1)..(colon < 0 ? id.Length : colon)]);
    }
}
