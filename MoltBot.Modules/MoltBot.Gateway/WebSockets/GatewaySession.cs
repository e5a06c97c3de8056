using System.Text.Json;
using MoltBot.Contracts.Messaging;
using MoltBot.Gateway.Protocol;

namespace MoltBot.Gateway.WebSockets;

/// <summary>
/// A WebSocket session: it outlives its connections for Gateway:ResumeWindowSeconds. Every server event gets
/// the next sequence number and is kept in a bounded replay buffer, so a client that reconnects with the last
/// sequence number it saw receives exactly the events it missed. Also remembers client message ids so a resend
/// is answered from memory instead of being handled twice.
/// </summary>
public sealed class GatewaySession : IReplySink
{
    private readonly Lock _gate = new();
    private readonly Queue<(long Seq, byte[] Frame, long AtMs)> _replay = new();
    private readonly ResumeBudget? _budget;
    private long _firstKeptSeq = 1; // read without the lock by the budget
    private readonly Dictionary<string, SentMessage> _sent = new(StringComparer.Ordinal);
    private readonly Queue<string> _sentOrder = new();
    private readonly Dictionary<string, string> _clientIdByEnvelope = new(StringComparer.Ordinal);
    private readonly GatewayOptions _options;
    private readonly TimeProvider _clock;
    private long _seq;
    private WebSocketConnection? _connection;
    private long _detachedAtMs;
    private volatile bool _expired;
    // Acks not published yet (see HoldAckLocked): client id and envelope id, in the order the sends were accepted.
    private readonly List<(string ClientId, string EnvelopeId)> _heldAcks = new();
    private ITimer? _ackTimer;

    internal GatewaySession(string id, string userId, string conversationId, string? language, GatewayOptions options, TimeProvider clock,
        ResumeBudget? budget = null)
    {
        _budget = budget;
        Id = id;
        UserId = userId;
        ConversationId = conversationId;
        Language = language;
        _options = options;
        _clock = clock;
        _detachedAtMs = clock.GetUtcNow().ToUnixTimeMilliseconds();
    }

    public string Id { get; }
    public string UserId { get; }
    public string ConversationId { get; }
    public string? Language { get; }

    public long LastSeq
    {
        get { lock (_gate) return _seq; }
    }

    public bool IsConnected
    {
        get { lock (_gate) return _connection is not null; }
    }

    /// <summary>Events currently held for resume.</summary>
    public int BufferedEvents
    {
        get { lock (_gate) return _replay.Count; }
    }

    /// <summary>Assigns the next sequence number, keeps the frame for resume and queues it on the live connection.</summary>
    internal void Publish(string type, Action<Utf8JsonWriter>? body)
    {
        lock (_gate) PublishLocked(type, body);
        EnforceBudget();
    }

    private byte[] PublishLocked(string type, Action<Utf8JsonWriter>? body)
    {
        // Held acks go first: an ack still precedes every frame published after its send was accepted.
        if (_heldAcks.Count > 0) ReleaseHeldAcksLocked();
        return PublishNowLocked(type, body);
    }

    private byte[] PublishNowLocked(string type, Action<Utf8JsonWriter>? body)
    {
        long seq = ++_seq;
        byte[] frame = FrameWriter.Build(type, seq, body);
        long now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        if (_replay.Count == 0) Volatile.Write(ref _firstKeptSeq, seq);
        _replay.Enqueue((seq, frame, now));
        _budget?.Added(this, seq, frame.Length, now);
        long oldest = now - _options.ResumeWindowSeconds * 1000L;
        while (_replay.Count > _options.ResumeBufferEvents || (_replay.Count > 0 && _replay.Peek().AtMs < oldest)) DropOldestLocked();
        _connection?.TryEnqueue(frame);
        return frame;
    }

    /// <summary>
    /// Drops the oldest kept frame. A reply's idempotency entry keeps its own reference: a resent id is answered with
    /// its reply for as long as the id is remembered (Gateway:IdempotencyWindow), whatever resume still holds.
    /// </summary>
    private void DropOldestLocked()
    {
        var (_, frame, _) = _replay.Dequeue();
        _budget?.Released(frame.Length);
        Volatile.Write(ref _firstKeptSeq, _replay.Count > 0 ? _replay.Peek().Seq : _seq + 1);
    }

    /// <summary>True while the frame with this seq is kept (the budget's check of a queue entry; no lock).</summary>
    internal bool Holds(long seq) => !_expired && seq >= Volatile.Read(ref _firstKeptSeq);

    /// <summary>Gateway:ResumeBufferTotalBytes: drops every kept frame up to this seq. True when one was dropped.</summary>
    internal bool DropThrough(long seq)
    {
        lock (_gate)
        {
            bool dropped = false;
            while (_replay.Count > 0 && _replay.Peek().Seq <= seq)
            {
                DropOldestLocked();
                dropped = true;
            }
            return dropped;
        }
    }

    private void EnforceBudget() => _budget?.Enforce(_clock.GetUtcNow().ToUnixTimeMilliseconds());

    /// <summary>
    /// Binds a connection: sends the session frame, then every buffered event after <paramref name="lastSeq"/>
    /// (under the lock, so no live event can overtake them). Returns an error text when resume is impossible.
    /// </summary>
    internal string? Attach(WebSocketConnection connection, long? lastSeq, bool resumed)
    {
        string? error = AttachCore(connection, lastSeq, resumed);
        EnforceBudget(); // held acks may have been published
        return error;
    }

    private string? AttachCore(WebSocketConnection connection, long? lastSeq, bool resumed)
    {
        lock (_gate)
        {
            if (_expired) return "the session has expired";
            if (lastSeq is { } last)
            {
                if (last > _seq) return $"lastSeq {last} is ahead of the session ({_seq})";
                long firstKept = _replay.Count > 0 ? _replay.Peek().Seq : _seq + 1;
                if (last + 1 < firstKept) return $"events {last + 1}..{firstKept - 1} are no longer kept (resume window or buffer exceeded)";
            }
            var previous = _connection;
            _connection = connection;
            previous?.Close(CloseCodes.SessionTakenOver, "session resumed by another connection");
            connection.TryEnqueue(FrameWriter.Build("session", null, w =>
            {
                w.WriteString("session", Id);
                w.WriteString("user", UserId);
                w.WriteString("conversation", ConversationId);
                w.WriteBoolean("resumed", resumed);
                w.WriteNumber("lastSeq", _seq);
                w.WriteNumber("resumeWindowSeconds", _options.ResumeWindowSeconds);
            }));
            if (lastSeq is { } from)
            {
                foreach (var (seq, frame, _) in _replay)
                {
                    if (seq > from) connection.TryEnqueue(frame);
                }
            }
            // Acks held while no connection was attached (or the old one left) go out after the replay, in order.
            if (_heldAcks.Count > 0) ReleaseHeldAcksLocked();
            return null;
        }
    }

    internal void Detach(WebSocketConnection connection)
    {
        lock (_gate)
        {
            if (!ReferenceEquals(_connection, connection)) return;
            _connection = null;
            _detachedAtMs = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        }
    }

    /// <summary>True (and the session is marked dead) when it has had no connection for the resume window.</summary>
    internal bool TryExpire(long nowMs)
    {
        lock (_gate)
        {
            if (_connection is not null || nowMs - _detachedAtMs < _options.ResumeWindowSeconds * 1000L) return false;
            _expired = true;
            if (_budget is not null) foreach (var kept in _replay) _budget.Released(kept.Frame.Length);
            _replay.Clear();
            _heldAcks.Clear();
            _ackTimer?.Dispose();
            _ackTimer = null;
            return true;
        }
    }

    /// <summary>The frames held for resume, oldest first (what a resuming client would be sent).</summary>
    internal IReadOnlyList<byte[]> BufferedFrames
    {
        get { lock (_gate) return _replay.Select(e => e.Frame).ToArray(); }
    }

    internal IReadOnlyCollection<string> PendingEnvelopeIds
    {
        get { lock (_gate) return _clientIdByEnvelope.Keys.ToArray(); }
    }

    /// <summary>
    /// Starts handling a client message unless its id was seen: <paramref name="submit"/> runs under the session
    /// lock (so the ack precedes any reply event) and returns null on success or an error to report.
    /// </summary>
    internal void Send(string clientId, string envelopeId, Func<(string Code, string Message, int? RetryAfterMs)?> submit)
    {
        SendCore(clientId, envelopeId, submit);
        EnforceBudget();
    }

    private void SendCore(string clientId, string envelopeId, Func<(string Code, string Message, int? RetryAfterMs)?> submit)
    {
        lock (_gate)
        {
            if (_expired) return;
            if (_sent.TryGetValue(clientId, out var known))
            {
                PublishLocked("ack", w =>
                {
                    w.WriteString("id", clientId);
                    w.WriteString("messageId", known.EnvelopeId);
                    w.WriteBoolean("duplicate", true);
                });
                if (known.FinalFrame is { } final) PublishLocked("reply.final", w => WriteAgainAsDuplicate(w, final));
                return;
            }

            var error = submit();
            if (error is { } e)
            {
                PublishLocked("error", FrameWriter.Error(e.Code, e.Message, clientId, e.RetryAfterMs));
                return;
            }
            _sent[clientId] = new SentMessage(envelopeId);
            _sentOrder.Enqueue(clientId);
            while (_sentOrder.Count > _options.IdempotencyWindow) _sent.Remove(_sentOrder.Dequeue());
            _clientIdByEnvelope[envelopeId] = clientId;
            if (_options.AckHoldMilliseconds > 0) HoldAckLocked(clientId, envelopeId);
            else PublishAckLocked(clientId, envelopeId);
        }
    }

    private void PublishAckLocked(string clientId, string envelopeId) =>
        PublishNowLocked("ack", w =>
        {
            w.WriteString("id", clientId);
            w.WriteString("messageId", envelopeId);
            w.WriteBoolean("duplicate", false);
        });

    /// <summary>
    /// Gateway:AckHoldMilliseconds: the ack is published (gets its seq, goes into the replay buffer and to the socket)
    /// right before the session's next frame — on the skill path its reply.final, a few ms later, so both frames are
    /// queued back to back and share a socket write and the client's read — or when the hold time is up, whichever
    /// comes first. What an ack means is unchanged (the pipeline accepted the message); only when it is sent.
    /// </summary>
    private void HoldAckLocked(string clientId, string envelopeId)
    {
        _heldAcks.Add((clientId, envelopeId));
        if (_heldAcks.Count > 1) return; // the timer is armed for the first one
        _ackTimer ??= _clock.CreateTimer(static state => ((GatewaySession)state!).OnAckHoldElapsed(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _ackTimer.Change(TimeSpan.FromMilliseconds(_options.AckHoldMilliseconds), Timeout.InfiniteTimeSpan);
    }

    private void OnAckHoldElapsed()
    {
        lock (_gate)
        {
            if (_expired || _heldAcks.Count == 0) return;
            ReleaseHeldAcksLocked();
        }
        EnforceBudget();
    }

    private void ReleaseHeldAcksLocked()
    {
        foreach (var (clientId, envelopeId) in _heldAcks) PublishAckLocked(clientId, envelopeId);
        _heldAcks.Clear();
        _ackTimer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    bool IReplySink.Deliver(OutboundMessage message) => Deliver(message, proactive: false);

    /// <summary>Publishes a pipeline event as typing / reply.delta / reply.final. False once the session expired.</summary>
    internal bool Deliver(OutboundMessage message, bool proactive)
    {
        bool delivered = DeliverCore(message, proactive);
        EnforceBudget();
        return delivered;
    }

    private bool DeliverCore(OutboundMessage message, bool proactive)
    {
        lock (_gate)
        {
            if (_expired) return false;
            string? clientId = null;
            if (!proactive) _clientIdByEnvelope.TryGetValue(message.InReplyTo, out clientId);
            switch (message.Kind)
            {
                case OutboundKind.Typing:
                    PublishLocked("typing", w =>
                    {
                        if (clientId is not null) w.WriteString("replyTo", clientId);
                        w.WriteBoolean("active", true);
                    });
                    break;
                case OutboundKind.Delta:
                    PublishLocked("reply.delta", w =>
                    {
                        if (clientId is not null) w.WriteString("replyTo", clientId);
                        w.WriteString("messageId", message.InReplyTo);
                        w.WriteString("text", message.Text);
                    });
                    break;
                default:
                    SentMessage? sent = null;
                    if (clientId is not null)
                    {
                        _clientIdByEnvelope.Remove(message.InReplyTo);
                        _sent.TryGetValue(clientId, out sent);
                    }
                    byte[] frame = PublishFinalLocked(clientId, message);
                    // The idempotency entry shares the published frame (already UTF-8, already in the resume buffer)
                    // instead of keeping the reply message and its strings a second time.
                    if (sent is not null) sent.FinalFrame = frame;
                    break;
            }
            return true;
        }
    }

    private byte[] PublishFinalLocked(string? clientId, OutboundMessage message) =>
        PublishLocked("reply.final", w =>
        {
            if (clientId is not null) w.WriteString("replyTo", clientId);
            w.WriteString("messageId", message.InReplyTo);
            w.WriteString("text", message.Text);
            w.WriteBoolean("failed", message.Kind == OutboundKind.Error);
            if (message.Language is not null) w.WriteString("lang", message.Language);
            if (message.Source is not null) w.WriteString("source", message.Source);
            if (message.CardJson is not null)
            {
                w.WritePropertyName("card");
                try
                {
                    using var card = JsonDocument.Parse(message.CardJson);
                    card.RootElement.WriteTo(w);
                }
                catch (JsonException)
                {
                    w.WriteStringValue(message.CardJson);
                }
            }
            w.WriteNumber("timestampMs", message.TimestampMs);
        });

    /// <summary>The body of a published reply.final (every member but type and seq), then "duplicate": true.</summary>
    private static void WriteAgainAsDuplicate(Utf8JsonWriter w, byte[] frame)
    {
        using var original = JsonDocument.Parse(frame);
        foreach (var member in original.RootElement.EnumerateObject())
        {
            if (member.NameEquals("type") || member.NameEquals("seq")) continue;
            member.WriteTo(w);
        }
        w.WriteBoolean("duplicate", true);
    }

    private sealed class SentMessage(string envelopeId)
    {
        public string EnvelopeId { get; } = envelopeId;
        /// <summary>The reply.final frame as first published (with its seq), once the reply is known.</summary>
        public byte[]? FinalFrame { get; set; }
    }
}
