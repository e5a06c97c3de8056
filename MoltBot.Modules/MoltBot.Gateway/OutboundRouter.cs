using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using MoltBot.Contracts.Messaging;
using MoltBot.Gateway.WebSockets;

namespace MoltBot.Gateway;

/// <summary>
/// Hands the pipeline's outbound events to whoever waits for them: the sink registered for the message
/// (WebSocket session or HTTP request), else every live web session of the conversation (messages MoltBot
/// starts itself, e.g. reminders). Every final reply is recorded in the conversation history first.
/// </summary>
public sealed class OutboundRouter(ConversationHistory history, SessionRegistry sessions, ILogger<OutboundRouter> logger)
{
    private readonly ConcurrentDictionary<string, IReplySink> _byMessage = new(StringComparer.Ordinal);

    internal void Register(string envelopeId, IReplySink sink) => _byMessage[envelopeId] = sink;

    internal void Unregister(string envelopeId) => _byMessage.TryRemove(envelopeId, out _);

    /// <summary>Messages whose final reply is still awaited.</summary>
    public int Pending => _byMessage.Count;

    internal void Route(OutboundMessage message)
    {
        bool final = message.Kind is OutboundKind.Final or OutboundKind.Error;
        if (final)
        {
            history.Add(message.Platform, message.ConversationId, new HistoryEntry(
                "r_" + message.InReplyTo, "out", message.UserId, message.Text, message.TimestampMs)
            {
                Language = message.Language,
                Source = message.Source,
            });
        }

        if (_byMessage.TryGetValue(message.InReplyTo, out var sink))
        {
            if (final) _byMessage.TryRemove(message.InReplyTo, out _);
            if (sink.Deliver(message)) return;
        }

        if (message.Platform == Contracts.Messaging.Platforms.Web && sessions.DeliverToConversation(message) > 0) return;

        if (final && message.Platform == Contracts.Messaging.Platforms.Web)
        {
            // No session can take it: throwing makes the dispatcher keep it in undelivered.jsonl.
            throw new InvalidOperationException($"No web session is open for conversation {message.ConversationId}.");
        }
        // HTTP: the caller stopped waiting; the reply stays readable in GET /v1/conversations/{id}/messages.
        logger.LogDebug("No receiver for {Kind} event of message {MessageId}; kept in history", message.Kind, message.InReplyTo);
    }
}
