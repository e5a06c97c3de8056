using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Messaging;

namespace MoltBot.Gateway.WebSockets;

/// <summary>
/// Live WebSocket connections and resumable sessions. Sessions without a connection are dropped once the resume
/// window has passed (<see cref="ExpireIdle"/>, run every second by <see cref="GatewayBackgroundService"/>).
/// </summary>
public sealed class SessionRegistry(IOptions<GatewayOptions> options, TimeProvider clock)
{
    private readonly ConcurrentDictionary<string, GatewaySession> _sessions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<WebSocketConnection, byte> _connections = new();
    private int _connectionCount;
    private long _slowReaderDisconnects;
    private readonly ResumeBudget _budget = new(options.Value.ResumeBufferTotalBytes, options.Value.ResumeWindowSeconds * 1000L);

    /// <summary>Bytes of the frames all sessions keep for resume (bounded by Gateway:ResumeBufferTotalBytes).</summary>
    public long ResumeBufferBytes => _budget.HeldBytes;

    /// <summary>Frames dropped because all sessions together were over Gateway:ResumeBufferTotalBytes.</summary>
    public long ResumeFramesEvicted => _budget.EvictedFrames;

    /// <summary>Open WebSocket connections (authenticated or not).</summary>
    public int ConnectionCount => Volatile.Read(ref _connectionCount);

    public int SessionCount => _sessions.Count;

    /// <summary>Connections closed because their send buffer filled up.</summary>
    public long SlowReaderDisconnects => Interlocked.Read(ref _slowReaderDisconnects);

    /// <summary>The open connections (a snapshot).</summary>
    internal IReadOnlyCollection<WebSocketConnection> Connections => (IReadOnlyCollection<WebSocketConnection>)_connections.Keys;

    public GatewaySession? Find(string sessionId) => _sessions.GetValueOrDefault(sessionId);

    /// <summary>Reserves a connection slot; false when Gateway:MaxConnections are open.</summary>
    internal bool TryReserveConnection()
    {
        if (Interlocked.Increment(ref _connectionCount) <= options.Value.MaxConnections) return true;
        Interlocked.Decrement(ref _connectionCount);
        return false;
    }

    internal void Opened(WebSocketConnection connection) => _connections.TryAdd(connection, 0);

    internal void Closed(WebSocketConnection connection)
    {
        if (_connections.TryRemove(connection, out _)) Interlocked.Decrement(ref _connectionCount);
    }

    internal void ReleaseReservation() => Interlocked.Decrement(ref _connectionCount);

    internal void CountSlowReader() => Interlocked.Increment(ref _slowReaderDisconnects);

    internal GatewaySession Create(string userId, string conversationId, string? language)
    {
        string id = "s_" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
        var session = new GatewaySession(id, userId, conversationId, language, options.Value, clock, _budget);
        _sessions[id] = session;
        return session;
    }

    /// <summary>Publishes an event nobody registered for (e.g. a reminder) to every session of the conversation.</summary>
    internal int DeliverToConversation(OutboundMessage message)
    {
        int delivered = 0;
        foreach (var session in _sessions.Values)
        {
            if (session.ConversationId == message.ConversationId && session.Deliver(message, proactive: true)) delivered++;
        }
        return delivered;
    }

    /// <summary>Removes sessions idle for longer than the resume window; returns their pending message ids.</summary>
    internal List<string> ExpireIdle()
    {
        long now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        _budget.Enforce(now); // frames past the resume window of sessions that publish nothing more
        var orphans = new List<string>();
        foreach (var (id, session) in _sessions)
        {
            if (session.TryExpire(now) && _sessions.TryRemove(id, out _)) orphans.AddRange(session.PendingEnvelopeIds);
        }
        return orphans;
    }

    /// <summary>Drops every open connection at once (no close handshake), as a network failure would; sessions stay resumable.</summary>
    public int AbortAll()
    {
        int n = 0;
        foreach (var c in _connections.Keys)
        {
            c.Abort();
            n++;
        }
        return n;
    }

    /// <summary>Closes every connection with a close frame (server shutdown).</summary>
    internal void CloseAll(int code, string reason)
    {
        foreach (var c in _connections.Keys) c.Close(code, reason);
    }
}
