using System.Diagnostics;
using Xunit.Abstractions;
using MoltBot.Contracts.Memory;
using MoltBot.Memory;
using MoltBot.Memory.Storage;

namespace MoltBot.Tests.Memory;

public class CrashDurabilityTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Killing_the_process_mid_load_loses_no_acknowledged_message_in_the_log_LiteDB_or_vector_recall()
    {
        string root = Directory.CreateTempSubdirectory("moltbot-crash-test").FullName;
        var acked = new HashSet<string>();
        string dll = typeof(CrashChildProgram).Assembly.Location;
        string host = Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
        var start = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { dll, "memory-crash-child", root }) start.ArgumentList.Add(a);

        using (var child = Process.Start(start)!)
        {
            var stderr = child.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            try
            {
                while (acked.Count < 3000)
                {
                    string? line = await child.StandardOutput.ReadLineAsync(timeout.Token);
                    if (line is null) Assert.Fail("child exited early: " + await stderr);
                    if (line.StartsWith("ACK ")) acked.Add(line[4..]);
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
        var messages = db.GetCollection<MessageDoc>(Collections.Messages).FindAll().ToList();
        var stored = messages.Select(m => m.Id).ToHashSet();
        lost = acked.Where(id => !stored.Contains(id)).ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} acknowledged messages missing from LiteDB, e.g. {string.Join(", ", lost.Take(5))}; {context}");
        foreach (var conversation in db.GetCollection<ConversationDoc>(Collections.Conversations).FindAll())
        {
            Assert.Equal(messages.Count(m => m.Conv == conversation.Id), conversation.MessageCount);
        }

        // Vector recall: one vector per stored inbound message, all of them in the HNSW index.
        var vectors = db.GetCollection<VectorDoc>(Collections.Vectors).FindAll().ToList();
        Assert.Equal(vectors.Count, vectors.Select(v => v.RefId).Distinct().Count());
        var vectorRefs = vectors.Select(v => v.RefId).ToHashSet();
        lost = acked.Where(id => int.Parse(id[(id.IndexOf('-') + 1)..]) % 2 == 0 && !vectorRefs.Contains(id)).ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} acknowledged messages missing from vector recall, e.g. {string.Join(", ", lost.Take(5))}; {context}");
        var index = reopened.Get<VectorMemory>().Index!;
        Assert.All(vectors, v => Assert.True(index.Contains(v.Id), $"vector {v.Id} ({v.RefId}) is not in the HNSW index"));
        Assert.Equal(vectors.Count, index.Count);

        // Short-term memory: a conversation's last turns are its last stored messages.
        var recent = await reopened.Get<IShortTermMemory>().RecentAsync("web:crash0", 5, CancellationToken.None);
        var last = messages.Where(m => m.Conv == "web:crash0").OrderBy(m => m.Ts).ThenBy(m => int.Parse(m.Id[(m.Id.IndexOf('-') + 1)..])).TakeLast(5).Select(m => m.Text);
        Assert.Equal(last.Order(), recent.Select(t => t.Text).Order());
        Assert.True(acked.Count >= 3000);
    }
}
