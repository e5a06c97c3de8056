using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;
using MoltBot.Gateway.Protocol;

namespace MoltBot.Gateway.WebSockets;

/// <summary>
/// One WebSocket connection: a receive loop that validates and dispatches client frames, and a bounded
/// per-connection queue of frames to send. Whoever queues a frame while nothing is being sent sends it (and whatever
/// queues up meanwhile) on its own thread, in queue order; only a send the socket cannot take at once continues on
/// the thread pool. A client that reads too slowly for that queue is disconnected instead of letting memory grow;
/// its session keeps the events for resume.
/// </summary>
public sealed class WebSocketConnection
{
    private readonly WebSocket _socket;
    private readonly GatewayOptions _options;
    private readonly SessionRegistry _registry;
    private readonly GatewayIntake _intake;
    private readonly HistoryReader _history;
    private readonly GatewayTokens _tokens;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly Channel<Outgoing> _outgoing;
    private readonly CancellationTokenSource _abort = new();
    private readonly CancellationToken _abortToken;
    private readonly TokenBucket _rate;
    private int _closing;
    // 1 while one caller owns the socket's send side (see SendQueued); frames queued meanwhile are sent by that owner.
    private int _sending;
    // The last send that had to wait for the socket (RunAsync's end waits for it); completed sends are not kept.
    private Task _pendingSend = Task.CompletedTask;
    private int _violations;
    private GatewaySession? _session;

    internal WebSocketConnection(WebSocket socket, GatewayOptions options, SessionRegistry registry, GatewayIntake intake,
        HistoryReader history, GatewayTokens tokens, TimeProvider clock, ILogger logger)
    {
        _socket = socket;
        _options = options;
        _registry = registry;
        _intake = intake;
        _history = history;
        _tokens = tokens;
        _clock = clock;
        _logger = logger;
        _abortToken = _abort.Token;
        _rate = new TokenBucket(options.RatePerSecond, options.RateBurst, clock);
        _outgoing = Channel.CreateBounded<Outgoing>(new BoundedChannelOptions(options.SendBufferFrames)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>Queues a frame. A full queue means the client reads too slowly: the connection is dropped.</summary>
    internal void TryEnqueue(byte[] frame)
    {
        if (Volatile.Read(ref _closing) != 0) return;
        if (_outgoing.Writer.TryWrite(new Outgoing(frame, null, null)))
        {
            SendQueued();
            return;
        }
        if (Volatile.Read(ref _closing) != 0) return;
        _registry.CountSlowReader();
        _logger.LogWarning("WebSocket client of session {SessionId} reads too slowly ({Frames} frames queued); disconnecting",
            _session?.Id, _options.SendBufferFrames);
        Abort();
    }

    /// <summary>Sends a close frame after what is already queued; the connection ends when the client answers (or after 5 s).</summary>
    internal void Close(int code, string reason)
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0) return;
        if (!_outgoing.Writer.TryWrite(new Outgoing(null, code, reason)))
        {
            Abort();
            return;
        }
        _outgoing.Writer.TryComplete();
        SendQueued();
        try { _abort.CancelAfter(TimeSpan.FromSeconds(5)); } catch (ObjectDisposedException) { }
    }

    /// <summary>Drops the connection without a close handshake.</summary>
    public void Abort()
    {
        Interlocked.Exchange(ref _closing, 1);
        _outgoing.Writer.TryComplete();
        try { _abort.Cancel(); } catch (ObjectDisposedException) { }
        _socket.Abort();
    }

    internal async Task RunAsync(CancellationToken requestAborted)
    {
        _registry.Opened(this);
        using var link = requestAborted.Register(Abort);
        TryEnqueue(FrameWriter.Build("hello", null, w =>
        {
            w.WriteNumber("protocol", GatewayProtocol.Version);
            w.WriteString("server", "moltbot");
            w.WriteNumber("heartbeatIntervalMs", _options.HeartbeatIntervalSeconds * 1000);
            w.WriteNumber("heartbeatTimeoutMs", _options.HeartbeatTimeoutSeconds * 1000);
            w.WriteNumber("authTimeoutMs", _options.AuthTimeoutSeconds * 1000);
            w.WriteStartObject("limits");
            w.WriteNumber("maxFrameBytes", _options.MaxFrameBytes);
            w.WriteNumber("maxTextLength", _options.MaxTextLength);
            w.WriteNumber("ratePerSecond", _options.RatePerSecond);
            w.WriteNumber("rateBurst", _options.RateBurst);
            w.WriteNumber("sendBufferFrames", _options.SendBufferFrames);
            w.WriteNumber("resumeWindowSeconds", _options.ResumeWindowSeconds);
            w.WriteNumber("resumeBufferEvents", _options.ResumeBufferEvents);
            w.WriteEndObject();
        }));
        using var authTimer = _clock.CreateTimer(_ =>
        {
            if (Volatile.Read(ref _session) is null) Close(CloseCodes.AuthTimeout, "no auth frame in time");
        }, null, TimeSpan.FromSeconds(_options.AuthTimeoutSeconds), Timeout.InfiniteTimeSpan);

        try
        {
            await ReceiveLoopAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            // Network drop, heartbeat timeout (the socket was aborted) or our own Abort: the session stays resumable.
            _logger.LogDebug("WebSocket of session {SessionId} ended: {Reason}", _session?.Id, ex.Message);
        }
        finally
        {
            _session?.Detach(this);
            Interlocked.Exchange(ref _closing, 1);
            _outgoing.Writer.TryComplete();
            try
            {
                await Volatile.Read(ref _pendingSend).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                Abort();
            }
            _registry.Closed(this);
            _abort.Dispose();
        }
    }

    /// <summary>
    /// Sends what is queued unless another caller is already doing so. A frame used to wait for a dedicated send loop
    /// to be scheduled (one thread-pool hand-off per frame, two per message on the skill path: ack and reply.final);
    /// now the caller that queued it writes it to the socket itself when the socket is free, which is the usual case.
    /// Order is the queue's: only one caller at a time owns the send side, and it sends everything queued before it
    /// lets go (a frame queued while it was busy is then sent by it, or by the next caller).
    /// </summary>
    private void SendQueued()
    {
        if (Interlocked.CompareExchange(ref _sending, 1, 0) != 0) return;
        var sending = DrainAsync();
        // Runs synchronously to its end unless the socket made a send wait; only such a send is left to wait for.
        if (!sending.IsCompleted) Volatile.Write(ref _pendingSend, sending);
    }

    private async Task DrainAsync()
    {
        try
        {
            var reader = _outgoing.Reader;
            while (true)
            {
                while (reader.TryRead(out var item))
                {
                    if (item.Frame is { } frame)
                    {
                        await _socket.SendAsync(frame.AsMemory(), WebSocketMessageType.Text, true, _abortToken).ConfigureAwait(false);
                    }
                    else
                    {
                        // The close frame is the last thing sent: the send side stays owned, so nothing follows it.
                        if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                            await _socket.CloseOutputAsync((WebSocketCloseStatus)item.CloseCode!.Value, item.CloseReason, _abortToken).ConfigureAwait(false);
                        return;
                    }
                }
                Volatile.Write(ref _sending, 0);
                // A frame queued after the last TryRead found the send side owned and left it to this loop: take it back.
                if (reader.Count == 0 || Interlocked.CompareExchange(ref _sending, 1, 0) != 0) return;
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            Abort();
        }
    }

    /// <summary>Size of the receive buffer rented when a frame starts arriving (it doubles up to Gateway:MaxFrameBytes).</summary>
    internal const int InitialReceiveBufferBytes = 4096;

    /// <summary>Where this connection logs (one logger shared by all connections).</summary>
    internal ILogger Logger => _logger;

    /// <summary>
    /// True while the receive loop holds a rented buffer, i.e. while a frame is arriving or being handled. Between
    /// frames it waits with a zero-byte read and holds none: 1,000 idle connections used to keep 4 MB of buffers.
    /// </summary>
    internal bool HoldsReceiveBuffer => Volatile.Read(ref _receiveBufferHeld);

    private bool _receiveBufferHeld;

    private async Task ReceiveLoopAsync()
    {
        byte[]? buffer = null;
        int count = 0;
        try
        {
            while (true)
            {
                ValueWebSocketReceiveResult result;
                if (buffer is null)
                {
                    // Between frames: wait for the next one without a buffer. The socket reads the frame header into
                    // its own small buffer and reports the frame's type; the payload is read once a buffer is rented.
                    result = await _socket.ReceiveAsync(Memory<byte>.Empty, _abortToken).ConfigureAwait(false);
                    if (result.MessageType != WebSocketMessageType.Close && !result.EndOfMessage)
                    {
                        buffer = ArrayPool<byte>.Shared.Rent(InitialReceiveBufferBytes);
                        Volatile.Write(ref _receiveBufferHeld, true);
                        continue;
                    }
                    // A close frame, or a message with an empty payload (handled below like any other frame).
                }
                else
                {
                    if (count == buffer.Length)
                    {
                        var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, _options.MaxFrameBytes + 1));
                        buffer.AsSpan(0, count).CopyTo(bigger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = bigger;
                    }
                    result = await _socket.ReceiveAsync(buffer.AsMemory(count), _abortToken).ConfigureAwait(false);
                }
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    Close(CloseCodes.Normal, "bye");
                    return;
                }
                count += result.Count;
                if (count > _options.MaxFrameBytes)
                {
                    _logger.LogInformation("WebSocket frame over {Max} bytes from session {SessionId}; closing with 1009", _options.MaxFrameBytes, _session?.Id);
                    Close(CloseCodes.MessageTooBig, $"frame larger than {_options.MaxFrameBytes} bytes");
                    await DrainUntilClosedAsync(buffer!).ConfigureAwait(false);
                    return;
                }
                if (!result.EndOfMessage) continue;
                if (Volatile.Read(ref _closing) == 0)
                {
                    if (result.MessageType == WebSocketMessageType.Binary)
                        Error(ErrorCodes.BinaryNotSupported, "Frames must be UTF-8 JSON text messages.", null);
                    else
                        await HandleFrameAsync(buffer is null ? ReadOnlyMemory<byte>.Empty : buffer.AsMemory(0, count)).ConfigureAwait(false);
                }
                count = 0;
                if (buffer is not null)
                {
                    // The frame is handled (nothing keeps its bytes): the buffer goes back before the next wait.
                    Volatile.Write(ref _receiveBufferHeld, false);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = null;
                }
            }
        }
        finally
        {
            if (buffer is not null)
            {
                Volatile.Write(ref _receiveBufferHeld, false);
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>After a close for an oversized frame: discard input until the client's close frame (bounded by the 5 s close timer).</summary>
    private async Task DrainUntilClosedAsync(byte[] scratch)
    {
        while (true)
        {
            var r = await _socket.ReceiveAsync(scratch.AsMemory(), _abort.Token).ConfigureAwait(false);
            if (r.MessageType == WebSocketMessageType.Close) return;
        }
    }

    private async Task HandleFrameAsync(ReadOnlyMemory<byte> data)
    {
        if (!_rate.TryTake())
        {
            int violations = ++_violations;
            if (violations >= _options.RateViolationsBeforeClose)
            {
                _logger.LogWarning("WebSocket session {SessionId} kept exceeding the rate limit; closing with 1008", _session?.Id);
                Close(CloseCodes.PolicyViolation, "rate limit exceeded repeatedly");
                return;
            }
            Error(ErrorCodes.RateLimited, $"Too many frames: at most {_options.RatePerSecond} per second (burst {_options.RateBurst}).", null, _rate.RetryAfterMs);
            return;
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(data);
        }
        catch (JsonException ex)
        {
            Error(ErrorCodes.InvalidJson, "The frame is not valid JSON: " + ex.Message, null);
            return;
        }
        using (doc)
        {
            var frame = doc.RootElement;
            if (frame.ValueKind != JsonValueKind.Object || !frame.TryGetProperty("type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
            {
                Error(ErrorCodes.InvalidFrame, "A frame must be a JSON object with a string field 'type'.", null);
                return;
            }
            string type = typeElement.GetString()!;
            string? id = frame.TryGetProperty("id", out var idElement) && idElement.ValueKind == JsonValueKind.String ? idElement.GetString() : null;
            try
            {
                if (type == "auth")
                {
                    HandleAuth(frame);
                    return;
                }
                if (_session is null)
                {
                    if (type is "send" or "typing" or "history" or "ping")
                        throw new ProtocolException(ErrorCodes.AuthRequired, "Send an auth frame first.");
                    throw new ProtocolException(ErrorCodes.UnknownType, $"Unknown frame type '{Truncate(type)}'.");
                }
                switch (type)
                {
                    case "send": HandleSend(frame, _session); break;
                    case "typing": FrameFields.OptionalBool(frame, "active"); break; // an activity signal: validated, nothing to answer
                    case "history": await HandleHistoryAsync(frame, _session).ConfigureAwait(false); break;
                    case "ping": HandlePing(frame, _session); break;
                    default: throw new ProtocolException(ErrorCodes.UnknownType, $"Unknown frame type '{Truncate(type)}'.");
                }
            }
            catch (ProtocolException ex)
            {
                Error(ex.Code, ex.Message, id);
            }
        }
    }

    private void HandleAuth(JsonElement frame)
    {
        if (_session is not null) throw new ProtocolException(ErrorCodes.AlreadyAuthenticated, "This connection is already authenticated.");
        string? token = frame.TryGetProperty("token", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        if (!_tokens.IsValid(token))
        {
            _logger.LogInformation("WebSocket auth refused (missing or wrong token); closing with {Code}", CloseCodes.AuthFailed);
            Close(CloseCodes.AuthFailed, "missing or invalid token");
            return;
        }
        string? user = NonEmpty(FrameFields.OptionalString(frame, "user", 128), "user");
        string? conversation = NonEmpty(FrameFields.OptionalString(frame, "conversation", 128), "conversation");
        string? lang = FrameFields.OptionalString(frame, "lang", 16);
        var resume = FrameFields.OptionalObject(frame, "resume");
        string? resumeId = null;
        long lastSeq = 0;
        if (resume is { } r)
        {
            resumeId = FrameFields.RequiredString(r, "session", 64);
            lastSeq = FrameFields.RequiredLong(r, "lastSeq", 0);
        }

        if (resumeId is not null)
        {
            var existing = _registry.Find(resumeId);
            string? problem = existing is null ? "unknown or expired session" : existing.Attach(this, lastSeq, resumed: true);
            if (problem is null)
            {
                Volatile.Write(ref _session, existing);
                return;
            }
            TryEnqueue(FrameWriter.Build("error", null, FrameWriter.Error(ErrorCodes.ResumeFailed, "Cannot resume: " + problem + "; a new session was started.")));
        }

        if (_registry.SessionCount >= _options.MaxSessions)
        {
            _logger.LogWarning("Gateway:MaxSessions ({Max}) sessions held; refusing a new one", _options.MaxSessions);
            Close(CloseCodes.TryAgainLater, "too many sessions; try again later");
            return;
        }
        user ??= "web-" + Guid.NewGuid().ToString("N")[..12];
        var session = _registry.Create(user, conversation ?? user, lang);
        session.Attach(this, null, resumed: false);
        Volatile.Write(ref _session, session);
    }

    private void HandleSend(JsonElement frame, GatewaySession session)
    {
        string id = NonEmpty(FrameFields.RequiredString(frame, "id", 128), "id")!;
        string text = FrameFields.RequiredString(frame, "text", _options.MaxTextLength);
        if (string.IsNullOrWhiteSpace(text)) throw new ProtocolException(ErrorCodes.InvalidField, "Field 'text' must not be empty.");
        string? lang = FrameFields.OptionalString(frame, "lang", 16) ?? session.Language;
        string envelopeId = _intake.NewMessageId();
        session.Send(id, envelopeId, () =>
        {
            var envelope = new Envelope
            {
                Id = envelopeId,
                Platform = Platforms.Web,
                ConversationId = session.ConversationId,
                UserId = session.UserId,
                TimestampMs = _intake.NowMs,
                Text = text,
                Language = lang,
            };
            return _intake.Submit(envelope, session) switch
            {
                EnqueueResult.Accepted => null,
                EnqueueResult.Full => (ErrorCodes.QueueFull, "MoltBot is busy; send the message again later.", _options.RetryAfterSeconds * 1000),
                EnqueueResult.Closed => (ErrorCodes.ShuttingDown, "MoltBot is shutting down; reconnect and send again later.", (int?)(_options.RetryAfterSeconds * 1000)),
                _ => null,
            };
        });
    }

    private async Task HandleHistoryAsync(JsonElement frame, GatewaySession session)
    {
        int limit = FrameFields.OptionalInt(frame, "limit", 1, _options.HistoryPerConversation) ?? Math.Min(50, _options.HistoryPerConversation);
        var messages = await _history.LastAsync(Platforms.Web, session.ConversationId, limit, _abort.Token).ConfigureAwait(false);
        session.Publish("history", w =>
        {
            w.WriteString("conversation", session.ConversationId);
            w.WriteStartArray("messages");
            foreach (var m in messages) HistoryJson.Write(w, m);
            w.WriteEndArray();
        });
    }

    private void HandlePing(JsonElement frame, GatewaySession session)
    {
        string? nonce = FrameFields.OptionalString(frame, "nonce", 128);
        session.Publish("pong", w =>
        {
            if (nonce is not null) w.WriteString("nonce", nonce);
            w.WriteNumber("serverTimeMs", _intake.NowMs);
        });
    }

    /// <summary>Error frames carry a sequence number once the session exists, like every other server event.</summary>
    private void Error(string code, string message, string? id, int? retryAfterMs = null)
    {
        var body = FrameWriter.Error(code, message, id, retryAfterMs);
        if (_session is { } s) s.Publish("error", body);
        else TryEnqueue(FrameWriter.Build("error", null, body));
    }

    private static string? NonEmpty(string? value, string name)
    {
        if (value is not null && string.IsNullOrWhiteSpace(value))
            throw new ProtocolException(ErrorCodes.InvalidField, $"Field '{name}' must not be empty.");
        return value;
    }

    private static string Truncate(string s) => s.Length <= 40 ? s : s[..40] + "…";

    private readonly record struct Outgoing(byte[]? Frame, int? CloseCode, string? CloseReason);
}
