using Microsoft.Extensions.Hosting;
using MoltBot.Contracts.Memory;
using MoltBot.Memory;
using MoltBot.Memory.Storage;

namespace MoltBot.Tests.Memory;

/// <summary>
/// The memory service's stop can be asked for twice at once (a SIGTERM while a test host or the service installer is
/// already stopping the host): both callers get the one clean close, not two closes racing over LiteDB's transaction.
/// </summary>
public class MemoryServiceStopTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Two_concurrent_stops_close_the_database_once_and_cleanly()
    {
        var settings = new Dictionary<string, string?> { ["Memory:ShortTermTurns"] = "20" };
        var harness = await MemoryHarness.StartAsync(settings: settings);
        string root = harness.Root;
        try
        {
            var store = harness.Get<IConversationStore>();
            long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            for (int i = 0; i < 20; i++)
                await store.RecordMessageAsync(new ConversationMessage("m" + i, "web:c1", "web:u1", i % 2 == 0 ? "in" : "out", "turn " + i, now + i), None);
            var service = harness.Services.GetServices<IHostedService>().OfType<MemoryService>().Single();
            var logEnd = harness.Get<EventLog>().End;

            var stops = Enumerable.Range(0, 4).Select(_ => Task.Run(() => service.StopAsync(None))).ToArray();
            await Task.WhenAll(stops).WaitAsync(TimeSpan.FromSeconds(60));

            Assert.All(stops, s => Assert.True(s.IsCompletedSuccessfully));
            // The clean close moved the replay mark to the log's end (inside LiteDB's last transaction) and closed the file.
            Assert.Equal(logEnd, harness.Get<ReplayMark>().Current);
            Assert.False(harness.Get<MemoryDatabase>().IsOpen);
            await harness.RestartableStopAsync();

            await using var restarted = await MemoryHarness.StartAsync(root, settings);
            var recent = await restarted.Get<IShortTermMemory>().RecentAsync("web:c1", 20, None);
            Assert.Equal(20, recent.Count);
        }
        finally
        {
            await harness.DisposeAsync();
        }
    }
}
