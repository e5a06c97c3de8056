using Microsoft.AspNetCore.Builder;
using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;
using MoltBot.Pipeline;

namespace MoltBot.Tests.Pipeline;

/// <summary>
/// A message that finds the inbound queue empty goes straight to its shard (no router hand-off); once messages pile
/// up they go through the inbound queue and the router, and every user's messages are still answered in order.
/// </summary>
public class DirectRoutingTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Idle_messages_bypass_the_router_and_piled_up_ones_keep_their_order_through_it()
    {
        var adapter = new RecordingAdapter();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new DelegateHandler(async (e, r, ct) =>
        {
            if (e.Text.StartsWith("held", StringComparison.Ordinal)) await gate.Task.WaitAsync(ct);
            await r.FinalAsync(new Reply(e.Text), ct);
        });
        await using var host = await TestHost.StartAsync(new Dictionary<string, string>
        {
            ["Pipeline:ShardCount"] = "1", ["Pipeline:ShardCapacity"] = "1", ["Pipeline:InboundCapacity"] = "100",
        }, b =>
        {
            b.Services.AddSingleton<IChannelAdapter>(adapter);
            b.Services.AddSingleton<IMessageHandler>(handler);
        });
        var queue = host.Services.GetRequiredService<IInboundQueue>();
        var queues = host.Services.GetRequiredService<MessageQueues>();

        // Idle: one at a time, each answered before the next.
        long before = queues.DirectRouted;
        for (int i = 0; i < 10; i++)
        {
            await queue.EnqueueAsync(RecordingAdapter.Message("u", "idle" + i), CancellationToken.None);
            await adapter.WaitForFinalsAsync(i + 1, Wait);
        }
        Assert.Equal(10, queues.DirectRouted - before);

        // Piled up behind a held handler (shard capacity 1): the rest queue in the inbound queue and go via the router.
        before = queues.DirectRouted;
        for (int i = 0; i < 30; i++)
            await queue.EnqueueAsync(RecordingAdapter.Message(i % 2 == 0 ? "u" : "v", (i == 0 ? "held" : "m") + i), CancellationToken.None);
        Assert.True(queues.DirectRouted - before <= 2, $"{queues.DirectRouted - before} of 30 bypassed a busy router");
        gate.SetResult();
        await adapter.WaitForFinalsAsync(40, Wait);
        foreach (var user in new[] { "u", "v" })
        {
            var texts = adapter.Finals.Where(f => f.UserId == user).Select(f => f.Text).Skip(user == "u" ? 10 : 0).ToList();
            var expected = Enumerable.Range(0, 30).Where(i => (i % 2 == 0) == (user == "u")).Select(i => (i == 0 ? "held" : "m") + i);
            Assert.Equal(expected, texts);
        }
    }
}
