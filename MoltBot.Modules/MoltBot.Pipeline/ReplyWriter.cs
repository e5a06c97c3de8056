using System.Diagnostics;
using System.Text.Json.Nodes;
using MoltBot.Contracts.Diagnostics;
using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;

namespace MoltBot.Pipeline;

/// <summary>
/// Turns a handler's typing/delta/final calls into outbound events addressed to the sender's conversation. The final
/// (or error) event waits for the turn's <see cref="TurnBarrier"/> first: the audit records of the model calls the
/// answer rests on are on disk before the user sees it.
/// </summary>
internal sealed class ReplyWriter(MessageQueues queues, QueuedEnvelope inbound, TimeProvider clock, ITraceRecorder trace, TurnBarrier? barrier = null)
    : IReplyWriter
{
    private readonly Envelope _envelope = inbound.Envelope;

    public bool Completed { get; private set; }

    public ValueTask TypingAsync(CancellationToken cancellationToken) =>
        Completed ? ValueTask.CompletedTask : Send(OutboundKind.Typing, "", null, null, null, cancellationToken);

    public ValueTask DeltaAsync(string text, CancellationToken cancellationToken)
    {
        if (Completed) throw new InvalidOperationException("The final reply was already written.");
        return Send(OutboundKind.Delta, text, null, null, null, cancellationToken);
    }

    public async ValueTask FinalAsync(Reply reply, CancellationToken cancellationToken)
    {
        if (Completed) throw new InvalidOperationException("The final reply was already written.");
        // Completed only once past the barrier: a handler timeout while waiting still gets the worker's apology.
        await WhenBarrierPassedAsync(cancellationToken).ConfigureAwait(false);
        Completed = true;
        await Send(OutboundKind.Final, reply.Text, reply.CardJson, reply.Language, reply.Source, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Used by the worker when the handler failed: an apology as the final event.</summary>
    public async ValueTask ErrorAsync(string text, CancellationToken cancellationToken)
    {
        Completed = true;
        await WhenBarrierPassedAsync(cancellationToken).ConfigureAwait(false);
        await Send(OutboundKind.Error, text, null, null, "pipeline", cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask WhenBarrierPassedAsync(CancellationToken cancellationToken)
    {
        if (barrier is null) return;
        var work = barrier.CloseAsync();
        if (work.IsCompleted) return;
        try
        {
            await work.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Deferred work logs its own failures; such a failure must not cost the user the reply.
        }
    }

    private ValueTask Send(OutboundKind kind, string text, string? card, string? language, string? source, CancellationToken ct)
    {
        var message = new OutboundMessage
        {
            Kind = kind,
            Platform = _envelope.Platform,
            Account = _envelope.Account,
            ConversationId = _envelope.ConversationId,
            UserId = _envelope.UserId,
            InReplyTo = _envelope.Id,
            ReplyToPlatformMessageId = _envelope.PlatformMessageId,
            Text = text,
            CardJson = card,
            Language = language ?? _envelope.Language,
            Source = source,
            TimestampMs = clock.GetUtcNow().ToUnixTimeMilliseconds(),
        };
        long inboundTs = kind is OutboundKind.Final or OutboundKind.Error ? inbound.EnqueuedTimestamp : 0;
        if (inboundTs != 0 && trace.Enabled)
        {
            trace.Record(new TraceEvent(_envelope.Platform + ":" + _envelope.ConversationId, _envelope.Id, TraceStages.Reply,
                message.TimestampMs, Stopwatch.GetElapsedTime(inboundTs).TotalMilliseconds,
                new JsonObject
                {
                    // An error's text is the pipeline's apology; what matters for replay is that it failed.
                    ["kind"] = kind.ToString(), ["text"] = kind == OutboundKind.Error ? null : text,
                    ["source"] = kind == OutboundKind.Error ? null : source, ["language"] = kind == OutboundKind.Error ? null : message.Language,
                }));
        }
        return queues.EnqueueOutboundAsync(message, inboundTs, ct);
    }
}
