using System.Diagnostics;
using System.Text.Json.Nodes;
using MoltBot.Contracts.Diagnostics;
using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;

namespace MoltBot.Pipeline;

/// <summary>
/// Turns a handler's typing/delta/final calls into outbound events addressed to the sender's conversation. The final
/// (or error) event waits for the turn's <see cref="TurnBarrier"/> first: the audit records of the model calls the
/// answer rests on are on disk before the user sees it. With a <see cref="TypingDelay"/> (Pipeline:TypingDelayMilliseconds)
/// the typing event is held: it goes out when the delay runs out or before the first delta, and is dropped when the
/// final reply is written first. Events keep their order either way: typing, deltas, final.
/// </summary>
internal sealed class ReplyWriter(MessageQueues queues, QueuedEnvelope inbound, TimeProvider clock, ITraceRecorder trace, TurnBarrier? barrier = null,
    TypingDelay? typingDelay = null)
    : IReplyWriter
{
    private readonly Envelope _envelope = inbound.Envelope;
    // Held typing: the timer's thread and the handler's may both try to settle it.
    private readonly Lock _typingGate = new();
    private TypingState _typing;
    private Task? _typingSent;

    private enum TypingState { None, Pending, Sent, Dropped }

    public bool Completed { get; private set; }

    public ValueTask TypingAsync(CancellationToken cancellationToken)
    {
        if (Completed) return ValueTask.CompletedTask;
        if (typingDelay is null) return Send(OutboundKind.Typing, "", null, null, null, cancellationToken);
        lock (_typingGate)
        {
            if (_typing != TypingState.None) return ValueTask.CompletedTask; // one indicator per turn is enough
            _typing = TypingState.Pending;
        }
        typingDelay.Arm(this);
        return ValueTask.CompletedTask;
    }

    /// <summary>The typing delay ran out: a typing event still held goes out now.</summary>
    internal void SendPendingTyping()
    {
        lock (_typingGate)
        {
            if (_typing != TypingState.Pending) return;
            _typing = TypingState.Sent;
            // Queued under the gate: a delta or final settles the typing state first, so it queues after this.
            _typingSent = Send(OutboundKind.Typing, "", null, null, null, CancellationToken.None).AsTask();
        }
    }

    /// <summary>
    /// Before a delta (<paramref name="sendPending"/>: a held typing event goes first) or the final (it is dropped): waits
    /// until a typing event already handed over is queued, so the reply cannot overtake it.
    /// </summary>
    private async ValueTask SettleTypingAsync(bool sendPending, CancellationToken cancellationToken)
    {
        if (typingDelay is null) return;
        Task? sent;
        lock (_typingGate)
        {
            if (_typing == TypingState.Pending)
            {
                if (sendPending)
                {
                    _typing = TypingState.Sent;
                    _typingSent = Send(OutboundKind.Typing, "", null, null, null, cancellationToken).AsTask();
                }
                else
                {
                    _typing = TypingState.Dropped;
                }
            }
            else if (_typing == TypingState.None && !sendPending)
            {
                _typing = TypingState.Dropped; // a typing call after the final must not send one
            }
            sent = _typingSent;
        }
        if (!sendPending) typingDelay.Disarm(this);
        if (sent is { IsCompletedSuccessfully: false }) await sent.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DeltaAsync(string text, CancellationToken cancellationToken)
    {
        if (Completed) throw new InvalidOperationException("The final reply was already written.");
        await SettleTypingAsync(sendPending: true, cancellationToken).ConfigureAwait(false);
        await Send(OutboundKind.Delta, text, null, null, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The turn is over (the worker calls this whatever happened): a held typing event is dropped.</summary>
    internal void EndTurn()
    {
        if (typingDelay is null) return;
        lock (_typingGate)
        {
            if (_typing is TypingState.Pending or TypingState.None) _typing = TypingState.Dropped;
        }
        typingDelay.Disarm(this);
    }

    public async ValueTask FinalAsync(Reply reply, CancellationToken cancellationToken)
    {
        if (Completed) throw new InvalidOperationException("The final reply was already written.");
        // Completed only once past the barrier: a handler timeout while waiting still gets the worker's apology.
        await WhenBarrierPassedAsync(cancellationToken).ConfigureAwait(false);
        Completed = true;
        await SettleTypingAsync(sendPending: false, cancellationToken).ConfigureAwait(false);
        await Send(OutboundKind.Final, reply.Text, reply.CardJson, reply.Language, reply.Source, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Used by the worker when the handler failed: an apology as the final event.</summary>
    public async ValueTask ErrorAsync(string text, CancellationToken cancellationToken)
    {
        Completed = true;
        await WhenBarrierPassedAsync(cancellationToken).ConfigureAwait(false);
        await SettleTypingAsync(sendPending: false, cancellationToken).ConfigureAwait(false);
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
