using System.Collections.Concurrent;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MoltBot.DevTools.Sandbox.Simulated;

/// <summary>
/// Web chat users: each one a real WebSocket client of MoltBot's gateway (/ws), authenticated with the loopback
/// web-chat token like the page does; replies are reply.final frames.
/// </summary>
public sealed class WebChatUsers : SimulatedPlatform
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly ConcurrentDictionary<string, Lazy<Task<Session>>> _sessions = new();
    private readonly CancellationTokenSource _stop = new();
    private Uri? _moltBot;
    private string? _token;
    private int _disposed;

    public override string Name => "web";

    public override string Url => _moltBot?.ToString() ?? "";

    public override IEnumerable<KeyValuePair<string, string>> Settings => [new("Gateway:LoopbackWebChatToken", "true")];

    public override async Task AttachAsync(Uri moltBot, CancellationToken cancellationToken)
    {
        _moltBot = moltBot;
        using var doc = JsonDocument.Parse(await _http.GetStringAsync(new Uri(moltBot, "/webchat/token"), cancellationToken).ConfigureAwait(false));
        _token = doc.RootElement.GetProperty("token").GetString();
    }

    public override string Conversation(int user) => "sandbox-web-" + user.ToString(CultureInfo.InvariantCulture);

    public override async Task SendAsync(string conversation, string messageId, string text, string? language, CancellationToken cancellationToken)
    {
        var session = await _sessions.GetOrAdd(conversation, c => new Lazy<Task<Session>>(() => ConnectAsync(c, language, cancellationToken))).Value.ConfigureAwait(false);
        var frame = new JsonObject { ["type"] = "send", ["id"] = messageId, ["text"] = text };
        if (language is not null) frame["lang"] = language;
        string json = frame.ToJsonString();
        session.Unacknowledged[messageId] = json;
        await session.SendAsync(json, cancellationToken).ConfigureAwait(false);
    }

    private async Task<Session> ConnectAsync(string conversation, string? language, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        var ws = new UriBuilder(_moltBot!) { Scheme = _moltBot!.Scheme == "https" ? "wss" : "ws", Path = "/ws" }.Uri;
        await socket.ConnectAsync(ws, cancellationToken).ConfigureAwait(false);
        var session = new Session(socket);
        var auth = new JsonObject { ["type"] = "auth", ["token"] = _token, ["user"] = conversation, ["conversation"] = conversation };
        if (language is not null) auth["lang"] = language;
        await session.SendAsync(auth.ToJsonString(), cancellationToken).ConfigureAwait(false);
        // hello, then session (or an error and a close)
        while (true)
        {
            using var frame = await session.ReceiveAsync(cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException("the gateway closed the web chat connection during auth");
            string type = frame.RootElement.GetProperty("type").GetString()!;
            if (type == "session") break;
            if (type == "error") throw new InvalidOperationException("web chat auth refused: " + frame.RootElement.GetRawText());
        }
        session.Reading = Task.Run(() => ReadAsync(conversation, session, _stop.Token), CancellationToken.None);
        return session;
    }

    private async Task ReadAsync(string conversation, Session session, CancellationToken cancellationToken)
    {
        try
        {
            while (await session.ReceiveAsync(cancellationToken).ConfigureAwait(false) is { } frame)
            {
                using (frame)
                {
                    var root = frame.RootElement;
                    switch (root.GetProperty("type").GetString())
                    {
                        case "reply.final":
                            OnReplied(conversation, root.TryGetProperty("text", out var t) ? t.GetString() ?? "" : "");
                            break;
                        case "ack":
                            if (root.TryGetProperty("id", out var acked)) session.Unacknowledged.TryRemove(acked.GetString() ?? "", out _);
                            break;
                        case "error":
                            string code = root.TryGetProperty("code", out var c) ? c.GetString() ?? "" : "";
                            string? id = root.TryGetProperty("id", out var i) ? i.GetString() : null;
                            if (code is "queue_full" or "rate_limited" && id is not null && session.Unacknowledged.TryGetValue(id, out var unacked)
                                && root.TryGetProperty("retryAfterMs", out var after))
                            {
                                // Not accepted: resend with the same id after the wait, as the protocol asks (the web chat page does too).
                                _ = ResendAsync(session, unacked, TimeSpan.FromMilliseconds(after.GetInt32()), cancellationToken);
                                break;
                            }
                            OnRefused(conversation, $"{code}: " + (root.TryGetProperty("message", out var m) ? m.GetString() : ""));
                            break;
                    }
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or ObjectDisposedException)
        {
            // the session ends: sandbox stopping or MoltBot closed the connection
        }
    }

    private static async Task ResendAsync(Session session, string frame, TimeSpan wait, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
            await session.SendAsync(frame, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or ObjectDisposedException)
        {
            // the sandbox is stopping; the step times out and is reported
        }
    }

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return; // the session closes the sockets early, then disposes everything
        foreach (var lazy in _sessions.Values)
        {
            if (!lazy.IsValueCreated) continue;
            try
            {
                var session = await lazy.Value.ConfigureAwait(false);
                await session.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is WebSocketException or InvalidOperationException or OperationCanceledException)
            {
                // a connection that never opened has nothing to close
            }
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        _stop.Dispose();
        _http.Dispose();
        await base.DisposeAsync().ConfigureAwait(false);
    }

    private sealed class Session(ClientWebSocket socket) : IAsyncDisposable
    {
        private readonly SemaphoreSlim _send = new(1, 1);
        private readonly byte[] _buffer = new byte[64 * 1024];

        public Task Reading { get; set; } = Task.CompletedTask;

        /// <summary>Sent frames not yet acknowledged, by client message id (resent after queue_full/rate_limited).</summary>
        public ConcurrentDictionary<string, string> Unacknowledged { get; } = new();

        public async Task SendAsync(string json, CancellationToken cancellationToken)
        {
            await _send.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await socket.SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text, true, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _send.Release();
            }
        }

        /// <summary>The next text frame as JSON, or null once the server closed the connection.</summary>
        public async Task<JsonDocument?> ReceiveAsync(CancellationToken cancellationToken)
        {
            using var message = new MemoryStream();
            while (true)
            {
                var r = await socket.ReceiveAsync(_buffer, cancellationToken).ConfigureAwait(false);
                if (r.MessageType == WebSocketMessageType.Close) return null;
                message.Write(_buffer, 0, r.Count);
                if (r.EndOfMessage) return JsonDocument.Parse(message.ToArray());
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (socket.State == WebSocketState.Open)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                try
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "sandbox done", timeout.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
                {
                }
            }
            try
            {
                // MoltBot answers the close; the reader then ends by itself.
                await Reading.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }
            socket.Dispose();
            _send.Dispose();
        }
    }
}
