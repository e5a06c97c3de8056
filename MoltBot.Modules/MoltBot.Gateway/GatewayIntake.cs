using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;

namespace MoltBot.Gateway;

/// <summary>
/// Publishes gateway messages to the pipeline without waiting: the reply receiver is registered first (so no
/// event can arrive unclaimed) and the message is recorded in the history; a full or closed queue is reported
/// to the caller (error frame, HTTP 503), never dropped silently.
/// </summary>
public sealed class GatewayIntake(IInboundQueue queue, OutboundRouter router, ConversationHistory history, TimeProvider clock)
{
    private readonly MessageIdGenerator _ids = new(clock);

    /// <summary>A new message id: "gw_" + 24 hex digits, time-ordered (see <see cref="MessageIdGenerator"/>).</summary>
    public string NewMessageId() => _ids.Next();

    public long NowMs => clock.GetUtcNow().ToUnixTimeMilliseconds();

    internal EnqueueResult Submit(Envelope envelope, IReplySink sink)
    {
        router.Register(envelope.Id, sink);
        history.Add(envelope.Platform, envelope.ConversationId,
            new HistoryEntry(envelope.Id, "in", envelope.UserId, envelope.Text, envelope.TimestampMs) { Language = envelope.Language });
        var result = queue.TryEnqueue(envelope);
        if (result != EnqueueResult.Accepted)
        {
            router.Unregister(envelope.Id);
            history.Remove(envelope.Platform, envelope.ConversationId, envelope.Id);
        }
        return result;
    }
}
