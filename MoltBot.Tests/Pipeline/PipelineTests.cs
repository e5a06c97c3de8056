using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;

namespace MoltBot.Tests.Pipeline;

/// <summary>The pipeline end to end inside a real host: bounded queues, shard ordering, failures, shutdown.</summary>
public class PipelineTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private static Action<WebApplicationBuilder> With(IChannelAdapter adapter, IMessageHandler handler) => b =>
    {
        b.Services.AddSingleton(adapter);
        b.Services.AddSingleton(handler);
    };

    [Fact]
    public async Task Every_message_is_answered_once_and_in_order_per_user()
    {
        var adapter = new RecordingAdapter();
        var handler = new DelegateHandler(async (e, r, ct) =>
        {
            if (e.Text.EndsWith('0')) await Task.Yield();
            await r.FinalAsync(new Reply(e.Text), ct);
        });
        await using var host = await TestHost.StartAsync(new Dictionary<string, string> { ["Pipeline:ShardCount"] = "4" }, With(adapter, handler));
        var queue = host.Services.GetRequiredService<IInboundQueue>();

        const int users = 50, perUser = 40;
        for (int i = 0; i < perUser; i++)
            for (int u = 0; u < users; u++)
                await queue.EnqueueAsync(RecordingAdapter.Message("u" + u, $"{i}"), CancellationToken.None);

        await adapter.WaitForFinalsAsync(users * perUser, Wait);
        var finals = adapter.Finals.ToList();
        Assert.Equal(users * perUser, finals.Count);
        Assert.Equal(finals.Count, finals.Select(f => f.InReplyTo).Distinct().Count());
        foreach (var group in finals.GroupBy(f => f.UserId))
        {
            Assert.Equal(Enumerable.Range(0, perUser).Select(i => i.ToString()), group.Select(f => f.Text));
        }
    }

    [Fact]
    public async Task A_full_queue_makes_producers_wait_and_webhooks_get_full_then_nothing_is_lost()
    {
        var adapter = new RecordingAdapter();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new DelegateHandler(async (e, r, ct) =>
        {
            await gate.Task.WaitAsync(ct);
            await r.FinalAsync(new Reply(e.Text), ct);
        });
        await using var host = await TestHost.StartAsync(new Dictionary<string, string>
        {
            ["Pipeline:ShardCount"] = "1", ["Pipeline:ShardCapacity"] = "1", ["Pipeline:InboundCapacity"] = "2",
        }, With(adapter, handler));
        var queue = host.Services.GetRequiredService<IInboundQueue>();

        // One in the handler, one in the shard queue, one held by the router, two in the inbound queue: then full.
        // The 20 ms between attempts lets the router move each message on, so the whole chain fills; and the 200 ms
        // wait is the one negative check here: nothing observable says "still waiting" except time passing.
        int accepted = 0;
        EnqueueResult result;
        while ((result = queue.TryEnqueue(RecordingAdapter.Message("u", "m" + accepted))) == EnqueueResult.Accepted)
        {
            accepted++;
            Assert.True(accepted < 50, "the bounded queue never filled");
            await Task.Delay(20);
        }
        Assert.Equal(EnqueueResult.Full, result);

        var blocked = queue.EnqueueAsync(RecordingAdapter.Message("u", "late"), CancellationToken.None).AsTask();
        await Task.Delay(200);
        Assert.False(blocked.IsCompleted, "EnqueueAsync must wait while the queue is full");

        gate.SetResult();
        await blocked.WaitAsync(Wait);
        await adapter.WaitForFinalsAsync(accepted + 1, Wait);
        Assert.Equal(accepted + 1, adapter.Finals.Count());
        Assert.Contains(adapter.Finals, f => f.Text == "late");
    }

    [Fact]
    public async Task A_retried_platform_message_is_answered_once()
    {
        var adapter = new RecordingAdapter();
        await using var host = await TestHost.StartAsync(null, With(adapter, DelegateHandler.Echo()));
        var queue = host.Services.GetRequiredService<IInboundQueue>();

        Assert.Equal(EnqueueResult.Accepted, queue.TryEnqueue(RecordingAdapter.Message("u", "hi", platformMessageId: "p-1")));
        Assert.Equal(EnqueueResult.Duplicate, queue.TryEnqueue(RecordingAdapter.Message("u", "hi", platformMessageId: "p-1")));
        await queue.EnqueueAsync(RecordingAdapter.Message("u", "hi", platformMessageId: "p-1"), CancellationToken.None);
        await queue.EnqueueAsync(RecordingAdapter.Message("u", "second", platformMessageId: "p-2"), CancellationToken.None);

        await adapter.WaitForFinalsAsync(2, Wait);
        // A causal barrier instead of a real-time wait: one user's messages are answered in order, so a second answer
        // to p-1 would come before this one.
        await queue.EnqueueAsync(RecordingAdapter.Message("u", "third", platformMessageId: "p-3"), CancellationToken.None);
        await adapter.WaitForFinalsAsync(3, Wait);
        Assert.Equal(["echo: hi", "echo: second", "echo: third"], adapter.Finals.Select(f => f.Text));
    }

    [Fact]
    public async Task A_failing_handler_yields_an_apology_in_the_users_language()
    {
        var adapter = new RecordingAdapter();
        var handler = new DelegateHandler((e, r, ct) => throw new InvalidOperationException("boom"));
        await using var host = await TestHost.StartAsync(null, With(adapter, handler));
        var queue = host.Services.GetRequiredService<IInboundQueue>();

        await queue.EnqueueAsync(RecordingAdapter.Message("en", "what time is it"), CancellationToken.None);
        await queue.EnqueueAsync(RecordingAdapter.Message("zh", "现在几点"), CancellationToken.None);
        await adapter.WaitForFinalsAsync(2, Wait);

        Assert.All(adapter.Finals, f => Assert.Equal(OutboundKind.Error, f.Kind));
        Assert.StartsWith("Sorry", adapter.Finals.Single(f => f.UserId == "en").Text);
        Assert.StartsWith("抱歉", adapter.Finals.Single(f => f.UserId == "zh").Text);
    }

    [Fact]
    public async Task A_hanging_handler_is_cut_off_at_the_timeout_and_the_user_still_gets_an_answer()
    {
        var adapter = new RecordingAdapter();
        var handler = new DelegateHandler(async (e, r, ct) =>
        {
            if (e.Text == "hang") await Task.Delay(Timeout.Infinite, ct);
            await r.FinalAsync(new Reply("ok"), ct);
        });
        await using var host = await TestHost.StartAsync(new Dictionary<string, string>
        {
            ["Pipeline:HandlerTimeoutSeconds"] = "1", ["Pipeline:ShardCount"] = "1",
        }, With(adapter, handler));
        var queue = host.Services.GetRequiredService<IInboundQueue>();

        await queue.EnqueueAsync(RecordingAdapter.Message("u", "hang"), CancellationToken.None);
        await queue.EnqueueAsync(RecordingAdapter.Message("v", "next"), CancellationToken.None);
        await adapter.WaitForFinalsAsync(2, Wait);

        Assert.Equal(OutboundKind.Error, adapter.Finals.Single(f => f.UserId == "u").Kind);
        Assert.Equal("ok", adapter.Finals.Single(f => f.UserId == "v").Text);
    }

    [Fact]
    public async Task A_reply_for_a_platform_without_adapter_is_kept_not_dropped()
    {
        var adapter = new RecordingAdapter();
        await using var host = await TestHost.StartAsync(null, With(adapter, DelegateHandler.Echo()));
        var queue = host.Services.GetRequiredService<IInboundQueue>();

        await queue.EnqueueAsync(RecordingAdapter.Message("u", "lost?", platform: "nowhere"), CancellationToken.None);
        await queue.EnqueueAsync(RecordingAdapter.Message("u", "marker"), CancellationToken.None);
        await adapter.WaitForFinalsAsync(1, Wait);

        string file = Path.Combine(host.DataDirectory, "pipeline", "undelivered.jsonl");
        // The file exists as soon as the store creates it, a moment before its line is written: wait for the line.
        string[] lines = [];
        for (int i = 0; i < 100 && (lines = File.Exists(file) ? await File.ReadAllLinesAsync(file) : []).Length == 0; i++) await Task.Delay(50);
        string line = Assert.Single(lines);
        using var doc = JsonDocument.Parse(line);
        Assert.Equal("echo: lost?", doc.RootElement.GetProperty("message").GetProperty("text").GetString());
        Assert.Equal("no adapter for platform", doc.RootElement.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task Shutdown_answers_or_persists_every_queued_message_and_the_next_start_answers_the_rest()
    {
        var first = new RecordingAdapter();
        var slow = DelegateHandler.Echo(TimeSpan.FromMilliseconds(150));
        var settings = new Dictionary<string, string> { ["Pipeline:ShardCount"] = "1", ["Pipeline:DrainTimeoutSeconds"] = "1" };
        var host = await TestHost.StartAsync(settings, With(first, slow));
        string root = host.Root;
        var queue = host.Services.GetRequiredService<IInboundQueue>();

        var sent = Enumerable.Range(0, 40).Select(i => RecordingAdapter.Message("u", "m" + i)).ToList();
        foreach (var e in sent) await queue.EnqueueAsync(e, CancellationToken.None);
        await host.StopAsync(); // as on SIGTERM: 1 s of drain, then persist
        Assert.Equal(EnqueueResult.Closed, queue.TryEnqueue(RecordingAdapter.Message("u", "after stop")));
        await host.App.DisposeAsync();

        int answeredBeforeStop = first.Finals.Count();
        Assert.InRange(answeredBeforeStop, 1, sent.Count - 1);
        Assert.True(File.Exists(Path.Combine(root, "data", "pipeline", "pending-inbound.jsonl")));

        var second = new RecordingAdapter();
        await using var restarted = await TestHost.StartAsync(settings, With(second, DelegateHandler.Echo()), root);
        await second.WaitForFinalsAsync(sent.Count - answeredBeforeStop, Wait);

        var answered = first.Finals.Concat(second.Finals).Select(f => f.InReplyTo).ToList();
        Assert.Equal(sent.Select(e => e.Id).Order(), answered.Order());
        // In order across the restart, too.
        Assert.Equal(sent.Select(e => "echo: " + e.Text), first.Finals.Concat(second.Finals).Select(f => f.Text));
    }

    [Fact]
    public async Task With_enough_drain_time_shutdown_answers_everything_queued()
    {
        var adapter = new RecordingAdapter();
        var host = await TestHost.StartAsync(new Dictionary<string, string> { ["Pipeline:ShardCount"] = "2" },
            With(adapter, DelegateHandler.Echo(TimeSpan.FromMilliseconds(20))));
        var queue = host.Services.GetRequiredService<IInboundQueue>();
        for (int i = 0; i < 30; i++) await queue.EnqueueAsync(RecordingAdapter.Message("u" + (i % 3), "m" + i), CancellationToken.None);

        await host.DisposeAsync();
        Assert.Equal(30, adapter.Finals.Count());
    }

    /// <summary>Stands in for PII masking: what it rewrites must be what reaches the disk.</summary>
    private sealed class RedactingFilter : IInboundFilter
    {
        public ValueTask<Envelope?> ApplyAsync(Envelope envelope, CancellationToken cancellationToken) =>
            ValueTask.FromResult<Envelope?>(envelope with { Text = envelope.Text.Replace("secret", "⟦X⟧"), Raw = null });
    }

    [Fact]
    public async Task Messages_persisted_at_shutdown_went_through_the_inbound_filters()
    {
        var adapter = new RecordingAdapter();
        var gate = new TaskCompletionSource();
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new DelegateHandler(async (e, r, ct) =>
        {
            entered.TrySetResult();
            await gate.Task.WaitAsync(ct);
            await r.FinalAsync(new Reply("ok"), ct);
        });
        var host = await TestHost.StartAsync(new Dictionary<string, string> { ["Pipeline:ShardCount"] = "1", ["Pipeline:DrainTimeoutSeconds"] = "0" },
            b => { With(adapter, handler)(b); b.Services.AddSingleton<IInboundFilter, RedactingFilter>(); });
        var queue = host.Services.GetRequiredService<IInboundQueue>();
        for (int i = 0; i < 5; i++)
            await queue.EnqueueAsync(RecordingAdapter.Message("u", $"my secret {i}") with { Raw = "{\"text\":\"my secret\"}" }, CancellationToken.None);
        await entered.Task.WaitAsync(Wait); // one is in the handler (cut off at stop), the rest queued behind it
        await host.StopAsync();
        await host.App.DisposeAsync();

        string text = await File.ReadAllTextAsync(Path.Combine(host.DataDirectory, "pipeline", "pending-inbound.jsonl"));
        Assert.Equal(5, text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.DoesNotContain("secret", text);
        Assert.All(text.Split('\n', StringSplitOptions.RemoveEmptyEntries),
            line => Assert.StartsWith("my ⟦X⟧", JsonDocument.Parse(line).RootElement.GetProperty("text").GetString()));
    }
}
