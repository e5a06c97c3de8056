using LiteDB;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Configuration;
using MoltBot.Memory;
using MoltBot.Memory.Storage;

namespace MoltBot.Tests.Memory;

/// <summary>
/// Memory:ConversationFlushMilliseconds: the LiteDB writer keeps conversation documents it committed changes to in
/// memory and writes them once per interval, when somebody waits for a write (a read's barrier), when idle for the
/// interval, and at stop; a failed group changes none of them; the start-up replay recounts conversations from their
/// stored messages. Real LiteDB files.
/// </summary>
public class ConversationFlushTests
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(30); // only so a broken build cannot hang the run

    private static ConversationDoc New() => new() { Id = "web:c", User = "web:u" };

    private static ConversationDoc? Stored(Setup setup) =>
        setup.Database.Db.GetCollection<ConversationDoc>(Collections.Conversations).FindById("web:c");

    private static async Task CountAsync(GroupCommitWriter writer) =>
        await await writer.EnqueueAsync((WriteBatch b) => b.Conversation("web:c", New).MessageCount += 1, checkpoint: false, None);

    [Fact]
    public async Task Committed_conversation_changes_stay_in_the_writer_until_somebody_waits_for_a_write()
    {
        await using var setup = Setup.Start(TimeProvider.System, flushMilliseconds: 60_000);
        for (int i = 0; i < 3; i++) await CountAsync(setup.Writer).WaitAsync(Hang);
        Assert.Null(Stored(setup)); // three commits, no document write

        await setup.Writer.WhenWrittenAsync(None).AsTask().WaitAsync(Hang); // what every read that goes to LiteDB does first
        Assert.Equal(3, Stored(setup)!.MessageCount);
        await CountAsync(setup.Writer).WaitAsync(Hang);
        Assert.Equal(3, Stored(setup)!.MessageCount);
        // A raw write (user deletion, profiles, the replay mark) sees them written first.
        int seen = -1;
        await setup.Writer.WriteAsync(db => seen = db.GetCollection<ConversationDoc>(Collections.Conversations).FindById("web:c").MessageCount, None)
            .AsTask().WaitAsync(Hang);
        Assert.Equal(4, seen);
    }

    [Fact]
    public async Task With_an_interval_of_0_every_commit_writes_them()
    {
        await using var setup = Setup.Start(TimeProvider.System, flushMilliseconds: 0);
        await CountAsync(setup.Writer).WaitAsync(Hang);
        Assert.Equal(1, Stored(setup)!.MessageCount);
    }

    [Fact]
    public async Task An_idle_writer_writes_them_when_the_interval_is_up_and_a_stop_writes_the_rest()
    {
        var clock = new ManualTimers();
        await using var setup = Setup.Start(clock, flushMilliseconds: 60_000);
        await CountAsync(setup.Writer).WaitAsync(Hang);
        Assert.Null(Stored(setup));
        // The writer waits for more writes or the interval's timer (fired here instead of after 60 s).
        await clock.WhenTimerCreatedAsync().WaitAsync(Hang);
        clock.FireAll();
        var deadline = DateTime.UtcNow + Hang;
        while (Stored(setup) is null && DateTime.UtcNow < deadline) await Task.Yield();
        Assert.Equal(1, Stored(setup)!.MessageCount);

        await CountAsync(setup.Writer).WaitAsync(Hang);
        Assert.Equal(1, Stored(setup)!.MessageCount);
        await setup.Writer.StopAsync().WaitAsync(Hang);
        Assert.Equal(2, Stored(setup)!.MessageCount);
    }

    [Fact]
    public async Task A_failed_group_changes_no_held_document_and_its_retry_counts_from_them()
    {
        await using var setup = Setup.Start(TimeProvider.System, flushMilliseconds: 60_000);
        await CountAsync(setup.Writer).WaitAsync(Hang);
        await CountAsync(setup.Writer).WaitAsync(Hang);
        // One write that counts and then fails: rolled back, retried alone, fails again; its count must not stick.
        var failing = await setup.Writer.EnqueueAsync((WriteBatch b) =>
        {
            b.Conversation("web:c", New).MessageCount += 100;
            throw new InvalidOperationException("write failed");
        }, checkpoint: false, None);
        await Assert.ThrowsAsync<InvalidOperationException>(() => failing.WaitAsync(Hang));
        await CountAsync(setup.Writer).WaitAsync(Hang);

        await setup.Writer.WhenWrittenAsync(None).AsTask().WaitAsync(Hang);
        Assert.Equal(3, Stored(setup)!.MessageCount);
    }

    [Fact]
    public async Task A_held_document_LiteDB_refuses_is_dropped_and_logged_and_does_not_fail_later_writes()
    {
        await using var setup = Setup.Start(TimeProvider.System, flushMilliseconds: 60_000);
        string tooLong = "web:" + new string('x', 2_000); // over LiteDB's 1,023-byte index key: its upsert throws
        await CountAsync(setup.Writer).WaitAsync(Hang);
        await (await setup.Writer.EnqueueAsync((WriteBatch b) => b.Conversation(tooLong, () => new ConversationDoc { Id = tooLong, User = "web:u" }).MessageCount += 1,
            checkpoint: false, None)).WaitAsync(Hang);

        await setup.Writer.WhenWrittenAsync(None).AsTask().WaitAsync(Hang); // the barrier's group fails, the held documents go one by one
        Assert.Equal(1, Stored(setup)!.MessageCount);
        Assert.Equal(1, setup.Writer.Failures); // the replay mark stops: the next start recounts
        await CountAsync(setup.Writer).WaitAsync(Hang);
        await setup.Writer.WhenWrittenAsync(None).AsTask().WaitAsync(Hang);
        Assert.Equal(2, Stored(setup)!.MessageCount);
        Assert.Equal(1, setup.Writer.Failures);
    }

    [Fact]
    public void The_replay_recounts_a_conversation_from_its_stored_messages()
    {
        string root = Directory.CreateTempSubdirectory("moltbot-flush-test").FullName;
        try
        {
            var paths = new MoltBotPaths(root, Path.Combine(root, "data"), Path.Combine(root, "models"));
            using var database = new MemoryDatabase(paths, Options.Create(new MemoryOptions()), NullLogger<MemoryDatabase>.Instance);
            database.Open();
            var db = database.Db;
            var messages = db.GetCollection<MessageDoc>(Collections.Messages);
            MessageDoc Doc(string conv, string id, string user, long ts, string? reply = null) => new()
            {
                Key = MessageKey.For(conv, id), Id = id, Conv = conv, User = user, Direction = "in", Text = id, Ts = ts,
                ReplyId = reply, ReplyText = reply, ReplyTs = reply is null ? null : ts + 5,
            };
            messages.Insert(Doc("web:g", "a", "web:u1", 1_000, "a:out"));
            messages.Insert(Doc("web:g", "b", "web:u2", 2_000));
            messages.Insert(Doc("web:g", "c", "web:u1", 3_000, "c:out"));
            messages.Insert(Doc("web:h", "x", "web:u3", 500));
            var conversations = db.GetCollection<ConversationDoc>(Collections.Conversations);
            // "web:g" was written before its last messages were counted; "web:h" never; "web:i" has no messages.
            conversations.Insert(new ConversationDoc { Id = "web:g", User = "web:u1", MessageCount = 2, StartedMs = 1_000, LastActivityMs = 1_005, DialogState = "{}", Users = ["web:u1"] });

            Assert.Equal(2, LogReplay.Recount(db, ["web:g", "web:h", "web:i"]));

            var g = conversations.FindById("web:g");
            Assert.Equal((5, 3_005L, 1_000L, "web:u1", "{}"), (g.MessageCount, g.LastActivityMs, g.StartedMs, g.User, g.DialogState));
            Assert.Equal(["web:u1", "web:u2"], g.Users);
            var h = conversations.FindById("web:h");
            Assert.Equal((1, 500L, 500L, "web:u3"), (h.MessageCount, h.LastActivityMs, h.StartedMs, h.User));
            Assert.Null(conversations.FindById("web:i"));
            Assert.Equal(0, LogReplay.Recount(db, ["web:g", "web:h"])); // up to date: nothing rewritten
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private sealed class Setup : IAsyncDisposable
    {
        private readonly string _root;

        private Setup(string root, MemoryDatabase database, GroupCommitWriter writer) => (_root, Database, Writer) = (root, database, writer);

        public MemoryDatabase Database { get; }
        public GroupCommitWriter Writer { get; }

        public static Setup Start(TimeProvider clock, int flushMilliseconds)
        {
            string root = Directory.CreateTempSubdirectory("moltbot-flush-test").FullName;
            var paths = new MoltBotPaths(root, Path.Combine(root, "data"), Path.Combine(root, "models"));
            // No linger: the only timer the writer makes is the flush interval's.
            var options = Options.Create(new MemoryOptions { WriteBehindLingerMilliseconds = 0, ConversationFlushMilliseconds = flushMilliseconds });
            var database = new MemoryDatabase(paths, options, NullLogger<MemoryDatabase>.Instance);
            database.Open();
            var writer = new GroupCommitWriter(database, options, NullLogger<GroupCommitWriter>.Instance, clock);
            writer.Start();
            return new Setup(root, database, writer);
        }

        public async ValueTask DisposeAsync()
        {
            await Writer.DisposeAsync();
            Database.Dispose();
            try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
        }
    }
}
