using LiteDB;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Configuration;
using MoltBot.Memory;
using MoltBot.Memory.Storage;

namespace MoltBot.Tests.Memory;

/// <summary>
/// Memory:DatabaseCheckpointPages is LiteDB's CHECKPOINT pragma for the memory database: its log (and so its page
/// cache, which holds every log page until the checkpoint) stays near that many 8 KB pages.
/// </summary>
public sealed class CheckpointSizeTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("moltbot-checkpoint-test").FullName;

    public void Dispose()
    {
        try { Directory.Delete(root, true); } catch (IOException) { }
    }

    private MemoryDatabase Open(MemoryOptions options)
    {
        var paths = new MoltBotPaths(root, Path.Combine(root, "data"), Path.Combine(root, "models"));
        var database = new MemoryDatabase(paths, Options.Create(options), NullLogger<MemoryDatabase>.Instance);
        database.Open();
        return database;
    }

    [Theory]
    [InlineData(0)] // LiteDB fsyncs its log itself
    [InlineData(100)] // the log through MemoryDatabase's deferred-sync stream
    public void The_log_is_checkpointed_once_it_holds_the_configured_number_of_pages(int syncMilliseconds)
    {
        using var database = Open(new MemoryOptions { DatabaseCheckpointPages = 20, DatabaseSyncMilliseconds = syncMilliseconds });
        Assert.Equal(20, database.Db.CheckpointSize);
        var probe = database.Db.GetCollection("probe");
        long longest = 0;
        for (int i = 0; i < 300; i++)
        {
            // One transaction each, a page or more of log each: 300+ log pages without a checkpoint.
            probe.Insert(new BsonDocument { ["_id"] = i, ["text"] = new string('x', 6000) });
            longest = Math.Max(longest, new FileInfo(database.LogFilePath).Length);
        }
        Assert.InRange(longest, 0, (20 + 4) * 8192L);
        Assert.Equal(300, probe.Count());
        // Not a vacuous bound: the log file is the one LiteDB writes. A length read right after a commit may be 0 (that
        // commit may have been the one that checkpointed, or LiteDB's writer thread has not written its pages yet; every
        // sample above was 0 once on a busy box): a transaction after a checkpoint leaves its pages in the log.
        bool written = false;
        for (int extra = 0; extra < 3 && !written; extra++)
        {
            probe.Insert(new BsonDocument { ["_id"] = 300 + extra, ["text"] = new string('x', 6000) });
            written = SpinWait.SpinUntil(() => new FileInfo(database.LogFilePath).Length > 0, TimeSpan.FromSeconds(5));
        }
        Assert.InRange(new FileInfo(database.LogFilePath).Length, 1, (20 + 4) * 8192L);
    }

    [Fact]
    public void The_default_is_200_pages_and_a_file_written_with_another_setting_gets_it_at_open()
    {
        using (var first = Open(new MemoryOptions { DatabaseCheckpointPages = 1000 }))
            Assert.Equal(1000, first.Db.CheckpointSize);
        using var second = Open(new MemoryOptions());
        Assert.Equal(200, new MemoryOptions().DatabaseCheckpointPages);
        Assert.Equal(200, second.Db.CheckpointSize);
    }
}
