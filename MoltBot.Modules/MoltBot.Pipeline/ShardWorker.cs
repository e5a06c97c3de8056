using System.Diagnostics;
using Microsoft.Extensions.Logging;
using System.Text.Json.Nodes;
using MoltBot.Contracts.Diagnostics;
using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;

namespace MoltBot.Pipeline;

/// <summary>
/// One shard worker: takes its shard's messages one at a time (so one user's messages are handled in order), runs
/// the inbound filters and the handler under a timeout, and makes sure every message ends with a final event.
/// </summary>
internal sealed class ShardWorker(
    int index,
    MessageQueues queues,
    IMessageHandler handler,
    IReadOnlyList<IInboundFilter> filters,
    IReadOnlyList<IPipelineObserver> observers,
    PendingMessageStore pending,
    ITraceRecorder trace,
    TimeSpan handlerTimeout,
    TimeProvider clock,
    ILogger logger,
    TimeSpan typingDelay = default)
{
    // Pipeline:TypingDelayMilliseconds: one timer for all of this worker's turns (none at 0: typing goes out at once).
    private readonly TypingDelay? _typingDelay = typingDelay > TimeSpan.Zero ? new TypingDelay(typingDelay, clock) : null;

    public int Index => index;

    /// <param name="abort">Cancelled when the shutdown drain time is over: the in-flight message is persisted, not answered.</param>
    public async Task RunAsync(CancellationToken abort)
    {
        var reader = queues.Shard(index).Reader;
        try
        {
            while (await reader.WaitToReadAsync(abort).ConfigureAwait(false))
            {
                while (reader.TryRead(out var item))
                {
                    await ProcessAsync(item, abort).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            // Drain time is over; what is left in the shard queue is persisted by the pipeline service.
        }
        finally
        {
            _typingDelay?.Dispose();
        }
    }

    private async Task ProcessAsync(QueuedEnvelope item, CancellationToken abort)
    {
        var envelope = item.Envelope;
        var queueWait = Stopwatch.GetElapsedTime(item.EnqueuedTimestamp);
        Observe(envelope, Stages.QueueWait, queueWait);
        using var scope = logger.BeginScope(new Dictionary<string, object>
        {
            ["ConversationId"] = envelope.ConversationId,
            ["Platform"] = envelope.Platform,
            ["MessageId"] = envelope.Id,
            ["Shard"] = index,
        });

        // Flows into the handler's calls: model-call audit appends overlap the rest of the turn, the reply waits for them.
        var barrier = TurnBarrier.Open();
        var reply = new ReplyWriter(queues, item, clock, trace, barrier, _typingDelay);
        Envelope? filtered = null;
        long start = Stopwatch.GetTimestamp();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(abort);
        timeout.CancelAfter(handlerTimeout);
        try
        {
            filtered = envelope;
            foreach (var filter in filters)
            {
                filtered = await filter.ApplyAsync(filtered, timeout.Token).ConfigureAwait(false);
                if (filtered is null)
                {
                    logger.LogInformation("Message {MessageId} stopped by filter {Filter}", envelope.Id, filter.GetType().Name);
                    return;
                }
            }
            Observe(envelope, Stages.Filter, Stopwatch.GetElapsedTime(start));
            if (trace.Enabled) RecordReceived(filtered, queueWait);

            long handleStart = Stopwatch.GetTimestamp();
            await handler.HandleAsync(filtered, reply, timeout.Token).ConfigureAwait(false);
            Observe(envelope, Stages.Handle, Stopwatch.GetElapsedTime(handleStart));
            if (!reply.Completed)
            {
                logger.LogError("Handler finished without a final reply for message {MessageId}", envelope.Id);
                await reply.ErrorAsync(Apology.For(envelope), abort).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            if (!reply.Completed)
            {
                // Shutdown ran out of drain time mid-message: keep it for the next start rather than lose it.
                // Persist the filtered (masked) form when the filters had run, so no raw personal data hits the disk.
                await pending.AppendAsync([filtered ?? envelope], CancellationToken.None).ConfigureAwait(false);
                logger.LogWarning("Shutdown interrupted message {MessageId}; persisted for the next start", envelope.Id);
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            logger.LogError("Handler timed out after {Timeout} for message {MessageId}", handlerTimeout, envelope.Id);
            if (!reply.Completed) await reply.ErrorAsync(Apology.For(envelope), abort).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Handler failed for message {MessageId}", envelope.Id);
            if (!reply.Completed) await reply.ErrorAsync(Apology.For(envelope), abort).ConfigureAwait(false);
        }
        finally
        {
            reply.EndTurn();
            // No reply (a filter stopped the message, or shutdown): later model calls of this flow wait for themselves.
            _ = barrier.CloseAsync();
        }
    }

    /// <summary>Trace: the message as the handler sees it (after masking), and where it was routed.</summary>
    private void RecordReceived(Envelope envelope, TimeSpan queueWait)
    {
        string conversation = envelope.Platform + ":" + envelope.ConversationId;
        long now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var data = System.Text.Json.JsonSerializer.SerializeToNode(envelope with { Raw = null }, TraceJson)!.AsObject();
        trace.Record(new TraceEvent(conversation, envelope.Id, TraceStages.Received, now, null, new JsonObject { ["envelope"] = data }));
        trace.Record(new TraceEvent(conversation, envelope.Id, TraceStages.Routed, now, queueWait.TotalMilliseconds,
            new JsonObject { ["shard"] = index, ["shardKey"] = envelope.ShardKey }));
    }

    private static readonly System.Text.Json.JsonSerializerOptions TraceJson = new(System.Text.Json.JsonSerializerDefaults.Web);

    private void Observe(Envelope envelope, string stage, TimeSpan elapsed)
    {
        foreach (var o in observers) o.OnStage(envelope.Platform, envelope.ConversationId, stage, elapsed);
    }
}

/// <summary>The polite fallback answer, in the user's language.</summary>
internal static class Apology
{
    public static string For(Envelope envelope) =>
        IsChinese(envelope) ? "抱歉，我这边出了点问题，请稍后再试。" : "Sorry, something went wrong on my side. Please try again in a moment.";

    private static bool IsChinese(Envelope envelope)
    {
        if (envelope.Language is { } lang) return lang.StartsWith("zh", StringComparison.OrdinalIgnoreCase);
        foreach (char c in envelope.Text)
        {
            if (c >= '\u4e00' && c <= '\u9fff') return true;
        }
        return false;
    }
}
