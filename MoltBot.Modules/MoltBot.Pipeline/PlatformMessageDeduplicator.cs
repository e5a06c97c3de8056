using MoltBot.Contracts.Messaging;

namespace MoltBot.Pipeline;

/// <summary>
/// Remembers the last N platform message ids so a webhook retry or a reconnect replay is not answered twice.
/// Bounded: the oldest ids are forgotten first.
/// </summary>
internal sealed class PlatformMessageDeduplicator(int capacity)
{
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();
    private readonly Lock _gate = new();

    /// <summary>True if the envelope is new (and remembers it); false if it was seen already.</summary>
    public bool TryRemember(Envelope envelope)
    {
        if (capacity == 0 || string.IsNullOrEmpty(envelope.PlatformMessageId)) return true;
        string key = Key(envelope);
        lock (_gate)
        {
            if (!_seen.Add(key)) return false;
            _order.Enqueue(key);
            while (_order.Count > capacity) _seen.Remove(_order.Dequeue());
            return true;
        }
    }

    /// <summary>Forgets an id whose message could not be accepted, so the platform's retry is not mistaken for a duplicate.</summary>
    public void Forget(Envelope envelope)
    {
        if (capacity == 0 || string.IsNullOrEmpty(envelope.PlatformMessageId)) return;
        string key = Key(envelope);
        lock (_gate) _seen.Remove(key);
    }

    private static string Key(Envelope envelope) =>
        string.Join('\u001f', envelope.Platform, envelope.Account, envelope.ConversationId, envelope.PlatformMessageId);
}
