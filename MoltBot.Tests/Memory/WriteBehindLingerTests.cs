using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Configuration;
using MoltBot.Memory;
using MoltBot.Memory.Storage;

namespace MoltBot.Tests.Memory;

/// <summary>
/// Memory:WriteBehindLingerMilliseconds: writes nobody waits for are held back to grow the LiteDB group; a write
/// somebody waits for (a read's barrier, an awaited write) ends the wait at once; without write-behind it is off.
/// </summary>
public class WriteBehindLingerTests
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(30); // only so a broken build cannot hang the run

    [Fact]
    public async Task Queued_writes_wait_for_the_linger_and_commit_as_one_group_and_a_barrier_ends_the_wait_at_once()
    {
        var clock = new ManualTimers();
        await using var setup = await Setup.StartAsync(clock, writeBehind: true);
        var writer = setup.Writer;

        var first = await writer.EnqueueAsync((WriteBatch b) => b.Conversation("web:c", Setup.New).MessageCount += 1, checkpoint: false, None);
        // The writer holds the group on the linger's timer (it only fires when this test advances the clock).
        await clock.WhenTimerCreatedAsync().WaitAsync(Hang);
        var second = await writer.EnqueueAsync((WriteBatch b) => b.Conversation("web:c", Setup.New).MessageCount += 1, checkpoint: false, None);
        var third = await writer.EnqueueAsync((WriteBatch b) => b.Conversation("web:c", Setup.New).MessageCount += 1, checkpoint: false, None);
        await Task.Delay(200); // real time: without the linger these would commit now
        Assert.False(first.IsCompleted || second.IsCompleted || third.IsCompleted);
        Assert.Equal(0, writer.Commits);

        await writer.WhenWrittenAsync(None).AsTask().WaitAsync(Hang); // somebody waits: no more lingering
        Assert.True(first.IsCompletedSuccessfully && second.IsCompletedSuccessfully && third.IsCompletedSuccessfully);
        Assert.Equal(1, writer.Commits); // the three writes and the barrier, one transaction
        Assert.Equal(3, setup.Database.Collection<ConversationDoc>(Collections.Conversations).FindById("web:c").MessageCount);
    }

    [Fact]
    public async Task Held_writes_commit_when_the_linger_runs_out_without_anybody_waiting()
    {
        var clock = new ManualTimers();
        await using var setup = await Setup.StartAsync(clock, writeBehind: true);
        var write = await setup.Writer.EnqueueAsync((WriteBatch b) => b.Conversation("web:c", Setup.New).MessageCount += 1, checkpoint: false, None);
        await clock.WhenTimerCreatedAsync().WaitAsync(Hang);
        Assert.False(write.IsCompleted);
        clock.FireAll();
        await write.WaitAsync(Hang);
        Assert.Equal(1, setup.Writer.Commits);
    }

    [Fact]
    public async Task Without_write_behind_a_write_commits_without_lingering()
    {
        var clock = new ManualTimers();
        await using var setup = await Setup.StartAsync(clock, writeBehind: false);
        var write = await setup.Writer.EnqueueAsync((WriteBatch b) => b.Conversation("web:c", Setup.New).MessageCount += 1, checkpoint: false, None);
        await write.WaitAsync(Hang); // no timer is ever fired here
        Assert.Equal(0, clock.TimersCreated);
    }

    private sealed class Setup : IAsyncDisposable
    {
        private readonly string _root;

        private Setup(string root, MemoryDatabase database, GroupCommitWriter writer)
        {
            _root = root;
            Database = database;
            Writer = writer;
        }

        public MemoryDatabase Database { get; }
        public GroupCommitWriter Writer { get; }

        public static ConversationDoc New() => new() { Id = "web:c", User = "web:u" };

        public static Task<Setup> StartAsync(TimeProvider clock, bool writeBehind)
        {
            string root = Directory.CreateTempSubdirectory("moltbot-linger-test").FullName;
            var paths = new MoltBotPaths(root, Path.Combine(root, "data"), Path.Combine(root, "models"));
            // 100 ms: far longer than the real-time pause above, and it only passes when the test fires the timer.
            var options = Options.Create(new MemoryOptions { DatabaseWriteBehind = writeBehind, WriteBehindLingerMilliseconds = 100 });
            var database = new MemoryDatabase(paths, options, NullLogger<MemoryDatabase>.Instance);
            database.Open();
            var writer = new GroupCommitWriter(database, options, NullLogger<GroupCommitWriter>.Instance, clock);
            writer.Start();
            return Task.FromResult(new Setup(root, database, writer));
        }

        public async ValueTask DisposeAsync()
        {
            await Writer.DisposeAsync();
            Database.Dispose();
            try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
        }
    }
}
