using Microsoft.AspNetCore.Builder;
using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;
using MoltBot.Tests.Gateway;

namespace MoltBot.Tests.Pipeline;

/// <summary>
/// Pipeline:TypingDelayMilliseconds: a handler's typing event goes out only when its reply is not written within the
/// delay, or before its first delta; a quick reply has none. Whatever goes out keeps the order typing, deltas, final.
/// </summary>
public class TypingDelayTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private static Action<WebApplicationBuilder> With(IChannelAdapter adapter, IMessageHandler handler) => b =>
    {
        b.Services.AddSingleton(adapter);
        b.Services.AddSingleton(handler);
    };

    private static Dictionary<string, string> Settings(int delayMs) => new()
    {
        ["Pipeline:ShardCount"] = "1", ["Pipeline:TypingDelayMilliseconds"] = delayMs.ToString(),
    };

    private static List<OutboundKind> KindsFor(RecordingAdapter adapter, string messageId) =>
        adapter.Events.Where(e => e.InReplyTo == messageId).Select(e => e.Kind).ToList();

    [Fact]
    public async Task A_reply_written_within_the_delay_goes_out_without_typing()
    {
        var adapter = new RecordingAdapter();
        var handler = new DelegateHandler(async (e, r, ct) =>
        {
            await r.TypingAsync(ct);
            await r.FinalAsync(new Reply("re: " + e.Text), ct);
        });
        await using var host = await TestHost.StartAsync(Settings(10_000), With(adapter, handler));
        var queue = host.Services.GetRequiredService<IInboundQueue>();

        var ids = Enumerable.Range(0, 20).Select(i => "m" + i).ToList();
        foreach (var id in ids) await queue.EnqueueAsync(RecordingAdapter.Message("u", id, id), CancellationToken.None);
        await adapter.WaitForFinalsAsync(ids.Count, Wait);

        foreach (var id in ids) Assert.Equal([OutboundKind.Final], KindsFor(adapter, id));
        Assert.DoesNotContain(adapter.Events, e => e.Kind == OutboundKind.Typing);
    }

    [Fact]
    public async Task A_reply_slower_than_the_delay_gets_typing_first()
    {
        var adapter = new RecordingAdapter();
        var handler = new DelegateHandler(async (e, r, ct) =>
        {
            await r.TypingAsync(ct);
            // Slow work: the typing event must reach the platform while the reply is still being prepared.
            Assert.True(await adapter.WaitForEventAsync(x => x.InReplyTo == e.Id && x.Kind == OutboundKind.Typing, Wait),
                $"no typing event for {e.Id} while its reply was held back");
            await r.FinalAsync(new Reply("re: " + e.Text), ct);
        });
        await using var host = await TestHost.StartAsync(Settings(30), With(adapter, handler));
        var queue = host.Services.GetRequiredService<IInboundQueue>();

        await queue.EnqueueAsync(RecordingAdapter.Message("u", "slow", "s1"), CancellationToken.None);
        await queue.EnqueueAsync(RecordingAdapter.Message("u", "slow too", "s2"), CancellationToken.None);
        await adapter.WaitForFinalsAsync(2, Wait);

        // The worker's one timer serves turn after turn.
        Assert.Equal([OutboundKind.Typing, OutboundKind.Final], KindsFor(adapter, "s1"));
        Assert.Equal([OutboundKind.Typing, OutboundKind.Final], KindsFor(adapter, "s2"));
    }

    [Fact]
    public async Task A_delta_sends_the_held_typing_first_and_the_order_stays_typing_deltas_final()
    {
        var adapter = new RecordingAdapter();
        var handler = new DelegateHandler(async (e, r, ct) =>
        {
            await r.TypingAsync(ct);
            await r.DeltaAsync("re:", ct);
            await r.TypingAsync(ct); // a second call sends nothing more
            await r.DeltaAsync(" " + e.Text, ct);
            await r.FinalAsync(new Reply("re: " + e.Text), ct);
        });
        await using var host = await TestHost.StartAsync(Settings(10_000), With(adapter, handler));
        var queue = host.Services.GetRequiredService<IInboundQueue>();

        await queue.EnqueueAsync(RecordingAdapter.Message("u", "hello", "d1"), CancellationToken.None);
        await adapter.WaitForFinalsAsync(1, Wait);

        Assert.Equal([OutboundKind.Typing, OutboundKind.Delta, OutboundKind.Delta, OutboundKind.Final], KindsFor(adapter, "d1"));
    }

    [Fact]
    public async Task A_failed_handler_gets_its_apology_without_the_held_typing()
    {
        var adapter = new RecordingAdapter();
        var handler = new DelegateHandler(async (e, r, ct) =>
        {
            await r.TypingAsync(ct);
            throw new InvalidOperationException("boom");
        });
        await using var host = await TestHost.StartAsync(Settings(10_000), With(adapter, handler));
        var queue = host.Services.GetRequiredService<IInboundQueue>();

        await queue.EnqueueAsync(RecordingAdapter.Message("u", "hello", "f1"), CancellationToken.None);
        await adapter.WaitForFinalsAsync(1, Wait);

        Assert.Equal([OutboundKind.Error], KindsFor(adapter, "f1"));
    }

    [Fact]
    public async Task At_zero_typing_goes_out_at_once_as_before()
    {
        var adapter = new RecordingAdapter();
        var handler = new DelegateHandler(async (e, r, ct) =>
        {
            await r.TypingAsync(ct);
            await r.FinalAsync(new Reply("re: " + e.Text), ct);
        });
        await using var host = await TestHost.StartAsync(Settings(0), With(adapter, handler));
        var queue = host.Services.GetRequiredService<IInboundQueue>();

        await queue.EnqueueAsync(RecordingAdapter.Message("u", "hello", "z1"), CancellationToken.None);
        await adapter.WaitForFinalsAsync(1, Wait);

        Assert.Equal([OutboundKind.Typing, OutboundKind.Final], KindsFor(adapter, "z1"));
    }

    [Fact]
    public async Task An_out_of_range_delay_stops_start_up_naming_the_key()
    {
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => TestHost.StartAsync(Settings(20_000), With(new RecordingAdapter(), DelegateHandler.Echo())));
        Assert.Contains("Pipeline:TypingDelayMilliseconds must be between 0", ex.ToString());
    }

    [Fact]
    public async Task Over_the_websocket_a_quick_reply_is_ack_then_final_with_consecutive_seqs()
    {
        var quick = new DelegateHandler(async (e, r, ct) =>
        {
            await r.TypingAsync(ct);
            await r.FinalAsync(new Reply("re: " + e.Text), ct);
        });
        var (host, _) = await GatewayFixture.StartAsync(configure: b => b.Services.AddSingleton<IMessageHandler>(quick));
        await using var _h = host;
        var (client, _, _) = await WsClient.OpenSessionAsync(GatewayFixture.WebSocketUri(host));
        await using var _c = client;

        await client.SendAsync(new { type = "send", id = "c1", text = "hello" });
        var frames = await client.ReceiveUntilAsync("reply.final");
        await client.SendAsync(new { type = "send", id = "c2", text = "again" });
        frames.AddRange(await client.ReceiveUntilAsync("reply.final"));

        Assert.Equal(["ack", "reply.final", "ack", "reply.final"], frames.Select(f => (string)f["type"]!));
        Assert.Equal([1L, 2L, 3L, 4L], frames.Select(f => (long)f["seq"]!));
        Assert.Equal("re: again", (string?)frames[^1]["text"]);
    }
}
