using MoltBot.Memory.Storage;

namespace MoltBot.Tests.Memory;

/// <summary>Memory:CheckpointPages reaches LiteDB (its CHECKPOINT pragma, kept in the file's header) at every open.</summary>
public class CheckpointPagesTests
{
    [Fact]
    public async Task The_configured_checkpoint_size_is_in_force_after_every_open()
    {
        var first = await MemoryHarness.StartAsync(settings: new Dictionary<string, string?> { ["Memory:CheckpointPages"] = "5000" });
        string root = first.Root;
        Assert.Equal(5000, first.Get<MemoryDatabase>().Db.Pragma("CHECKPOINT").AsInt32);
        await first.RestartableStopAsync();

        // Reopened without the setting: back to the default, not what the header kept.
        await using var second = await MemoryHarness.StartAsync(root);
        Assert.Equal(1000, second.Get<MemoryDatabase>().Db.Pragma("CHECKPOINT").AsInt32);
    }
}
