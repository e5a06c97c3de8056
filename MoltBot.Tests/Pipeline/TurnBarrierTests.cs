using Microsoft.AspNetCore.Builder;
using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;

namespace MoltBot.Tests.Pipeline;

/// <summary>
/// Work deferred to a turn's barrier (model-call audit appends) runs alongside the rest of the turn; the final reply
/// is not sent before it completes, and a failure or a hang in it never costs the user the answer.
/// </summary>
public class TurnBarrierTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private static Action<WebApplicationBuilder> With(IChannelAdapter adapter, IMessageHandler handler) => b =>
    {
        b.Services.AddSingleton(adapter);
        b.Services.AddSingleton(handler);
    };

    [Fact]
    public async Task The_final_reply_waits_for_work_deferred_during_its_turn()
    {
        var adapter = new RecordingAdapter();
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var heldFinalCalled = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var deferred = new List<bool>();
        var handler = new DelegateHandler(async (e, r, ct) =>
        {
            await Task.Yield(); // the barrier flows across awaits and threads
            lock (deferred) deferred.Add(TurnBarrier.TryDefer(e.Text == "held" ? held.Task : Task.CompletedTask));
            var final = r.FinalAsync(new Reply(e.Text), ct);
            if (e.Text == "held") heldFinalCalled.TrySetResult(final.IsCompleted);
            await final;
            lock (deferred) deferred.Add(TurnBarrier.TryDefer(Task.CompletedTask)); // after the reply: refused
        });
        await using var host = await TestHost.StartAsync(new Dictionary<string, string> { ["Pipeline:ShardCount"] = "2" }, With(adapter, handler));
        var queue = host.Services.GetRequiredService<IInboundQueue>();

        // Two users on different shards, so the free one is not queued behind the held one.
        int ShardOf(string user) => ShardHash.ShardOf(RecordingAdapter.Message(user, "").ShardKey, 2);
        string other = Enumerable.Range(0, 100).Select(i => "v" + i).First(v => ShardOf(v) != ShardOf("u"));
        await queue.EnqueueAsync(RecordingAdapter.Message("u", "held"), CancellationToken.None);
        await queue.EnqueueAsync(RecordingAdapter.Message(other, "free"), CancellationToken.None);
        await adapter.WaitForFinalsAsync(1, Wait);
        Assert.False(await heldFinalCalled.Task.WaitAsync(Wait), "the held turn's final reply must wait for its deferred work");
        Assert.Equal(["free"], adapter.Finals.Select(f => f.Text));

        held.SetResult();
        await adapter.WaitForFinalsAsync(2, Wait);
        Assert.Equal(["free", "held"], adapter.Finals.Select(f => f.Text));
        lock (deferred) Assert.Equal(2, deferred.Count(d => d)); // one accepted per turn, the later ones refused
        lock (deferred) Assert.Equal(4, deferred.Count);
        Assert.False(TurnBarrier.TryDefer(Task.CompletedTask)); // no turn here
    }

    [Fact]
    public async Task Failed_deferred_work_does_not_cost_the_reply_and_hung_work_ends_in_the_timeout_apology()
    {
        var adapter = new RecordingAdapter();
        var handler = new DelegateHandler(async (e, r, ct) =>
        {
            TurnBarrier.TryDefer(e.Text == "fails" ? Task.FromException(new IOException("disk gone")) : new TaskCompletionSource().Task);
            await r.FinalAsync(new Reply("answer to " + e.Text), ct);
        });
        await using var host = await TestHost.StartAsync(new Dictionary<string, string>
        {
            ["Pipeline:HandlerTimeoutSeconds"] = "1", ["Pipeline:ShardCount"] = "2",
        }, With(adapter, handler));
        var queue = host.Services.GetRequiredService<IInboundQueue>();

        await queue.EnqueueAsync(RecordingAdapter.Message("u", "fails"), CancellationToken.None);
        await queue.EnqueueAsync(RecordingAdapter.Message("v", "hangs"), CancellationToken.None);
        await adapter.WaitForFinalsAsync(2, Wait);

        var failed = adapter.Finals.Single(f => f.UserId == "u");
        Assert.Equal(OutboundKind.Final, failed.Kind);
        Assert.Equal("answer to fails", failed.Text);
        Assert.Equal(OutboundKind.Error, adapter.Finals.Single(f => f.UserId == "v").Kind);
        Assert.Single(adapter.Finals, f => f.UserId == "v");
    }
}
