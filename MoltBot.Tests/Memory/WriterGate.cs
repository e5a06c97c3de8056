using MoltBot.Memory.Storage;

namespace MoltBot.Tests.Memory;

/// <summary>Holds LiteDB's single writer on a gate, so tests can be certain which writes queue up behind it.</summary>
internal static class WriterGate
{
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(30); // only so a broken build cannot hang the run

    /// <summary>Queues a write that blocks the writer until the returned gate is set; returns once the writer holds it.</summary>
    public static async Task<ManualResetEventSlim> HoldAsync(GroupCommitWriter writer)
    {
        var gate = new ManualResetEventSlim(false);
        var entered = new ManualResetEventSlim(false);
        _ = await writer.EnqueueAsync((WriteBatch _) => { entered.Set(); gate.Wait(Hang); }, checkpoint: false, CancellationToken.None);
        Assert.True(entered.Wait(Hang), "the writer never picked up the blocking write");
        return gate;
    }
}
