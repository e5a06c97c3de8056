using System.Diagnostics;
using MoltBot.Contracts.Memory;

namespace MoltBot.Tests.Memory;

public class CrashDurabilityTests
{
    [Fact]
    public async Task Killing_the_process_mid_load_loses_no_acknowledged_event()
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
        var stored = (await reopened.Get<IEventLog>().RangeAsync(null, 0, long.MaxValue / 2, int.MaxValue, CancellationToken.None))
            .Select(e => e.Text!).ToHashSet();
        var lost = acked.Where(id => !stored.Contains(id)).ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} of {acked.Count} acknowledged events lost, e.g. {string.Join(", ", lost.Take(5))}");
        Assert.True(acked.Count >= 3000);
    }
}
