using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace MoltBot.DevTools.Sandbox.Platforms;

/// <summary>
/// Slack Socket Mode and Web API as documented: POST /api/apps.connections.open (Bearer xapp) → {"ok":true,"url"};
/// the socket sends "hello", then envelopes {"envelope_id","type","payload","accepts_response_payload","retry_attempt"};
/// an envelope not acknowledged with {"envelope_id"} is delivered again on the next connection. It can ask for a
/// refresh ({"type":"disconnect","reason":"refresh_requested"}), drop connections on a timer, and rate-limit
/// chat.postMessage (HTTP 429 + Retry-After).
/// </summary>
public sealed class FakeSlackServer : FakeServer
{
    public const string DefaultAppToken = "xapp-1-test";
    public const string DefaultBotToken = "xoxb-test";

    /// <summary>App-level token apps.connections.open requires (Bearer).</summary>
    public string AppToken { get; init; } = DefaultAppToken;

    /// <summary>Bot token chat.postMessage requires (Bearer).</summary>
    public string BotToken { get; init; } = DefaultBotToken;

    private readonly Lock _gate = new();
    private readonly List<(string Id, JsonObject Envelope)> _all = new();
    private readonly HashSet<string> _acked = new();
    private readonly Dictionary<string, int> _attempts = new();
    private readonly SemaphoreSlim _signal = new(0);
    private int _connections;
    private volatile Connection? _current;

    public int ConnectionsOpened => _connections;
    public ConcurrentQueue<JsonObject> Posts { get; } = new();
    public ConcurrentDictionary<string, int> AckCounts { get; } = new();
    public int AppTokenFailures;

    /// <summary>Abort the live socket this often (chaos).</summary>
    public TimeSpan? DropEvery { get; set; }

    /// <summary>How many envelopes may wait for their ack on one connection.</summary>
    public int Window { get; set; } = 20;

    /// <summary>The next N chat.postMessage calls answer 429 + Retry-After: 1.</summary>
    public int RateLimitNextPosts;

    /// <summary>Every Nth chat.postMessage answers 500 (0 = never).</summary>
    public int FailEveryNthPost { get; set; }
    private int _postCount;

    public DateTimeOffset? FirstRateLimitedAt { get; private set; }
    public DateTimeOffset? FirstPostAfterRateLimitAt { get; private set; }

    public int Unacked
    {
        get { lock (_gate) return _all.Count - _acked.Count; }
    }

    public void Publish(string envelopeId, JsonObject envelope)
    {
        lock (_gate) _all.Add((envelopeId, envelope));
        _signal.Release();
    }

    public static JsonObject MessageEvent(string envelopeId, string channel, string user, string text, string ts, string team = "T1") => new()
    {
        ["envelope_id"] = envelopeId,
        ["type"] = "events_api",
        ["accepts_response_payload"] = false,
        ["payload"] = new JsonObject
        {
            ["token"] = "verification",
            ["team_id"] = team,
            ["api_app_id"] = "A1",
            ["type"] = "event_callback",
            ["event_id"] = "Ev" + envelopeId,
            ["event_time"] = 1700000000,
            ["event"] = new JsonObject
            {
                ["type"] = "message",
                ["channel"] = channel,
                ["user"] = user,
                ["text"] = text,
                ["ts"] = ts,
                ["event_ts"] = ts,
                ["channel_type"] = "im",
            },
        },
    };

    /// <summary>Asks the live connection to refresh, as Slack does before it retires a connection.</summary>
    public async Task RequestRefreshAsync()
    {
        var c = _current ?? throw new InvalidOperationException("no live connection");
        c.Draining = true;
        await c.SendAsync("{\"type\":\"disconnect\",\"reason\":\"refresh_requested\",\"debug_info\":{\"host\":\"fake\"}}");
    }

    protected override void Map(WebApplication app)
    {
        app.MapPost("/api/apps.connections.open", (HttpContext ctx) =>
        {
            if (ctx.Request.Headers.Authorization != "Bearer " + AppToken)
            {
                Interlocked.Increment(ref AppTokenFailures);
                return Results.Json(new { ok = false, error = "invalid_auth" });
            }
            int n = Interlocked.Increment(ref _connections);
            return Results.Json(new { ok = true, url = $"{WsUrl}/link/?ticket={n}" });
        });
        app.MapPost("/api/chat.postMessage", async (HttpContext ctx) =>
        {
            if (ctx.Request.Headers.Authorization != "Bearer " + BotToken) return Results.Json(new { ok = false, error = "invalid_auth" });
            var body = (await JsonNode.ParseAsync(ctx.Request.Body))!.AsObject();
            if (Interlocked.Decrement(ref RateLimitNextPosts) >= 0)
            {
                FirstRateLimitedAt ??= DateTimeOffset.UtcNow;
                ctx.Response.Headers.RetryAfter = "1";
                return Results.Json(new { ok = false, error = "ratelimited" }, statusCode: 429);
            }
            if (FailEveryNthPost > 0 && Interlocked.Increment(ref _postCount) % FailEveryNthPost == 0)
            {
                return Results.Json(new { ok = false, error = "internal_error" }, statusCode: 500);
            }
            if (FirstRateLimitedAt is not null) FirstPostAfterRateLimitAt ??= DateTimeOffset.UtcNow;
            Posts.Enqueue(body);
            OnDelivered("chat.postMessage", body);
            return Results.Json(new { ok = true, channel = body["channel"]?.GetValue<string>(), ts = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0 });
        });
        app.Map("/link", async (HttpContext ctx) =>
        {
            if (!ctx.WebSockets.IsWebSocketRequest) { ctx.Response.StatusCode = 400; return; }
            using var ws = await ctx.WebSockets.AcceptWebSocketAsync();
            var conn = new Connection(ws);
            _current = conn;
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted);
            if (DropEvery is { } every) cts.CancelAfter(every);
            try
            {
                await conn.SendAsync("{\"type\":\"hello\",\"num_connections\":1,\"debug_info\":{\"host\":\"fake\",\"approximate_connection_time\":3600},\"connection_info\":{\"app_id\":\"A1\"}}");
                var receiving = ReceiveAcksAsync(conn, cts.Token);
                await SendLoopAsync(conn, cts.Token);
                await receiving;
            }
            catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException)
            {
            }
            if (cts.IsCancellationRequested && !ctx.RequestAborted.IsCancellationRequested) ctx.Abort(); // the chaos drop: no close handshake
        });
    }

    private async Task SendLoopAsync(Connection conn, CancellationToken ct)
    {
        var sentHere = new HashSet<string>();
        while (!ct.IsCancellationRequested && conn.Socket.State == WebSocketState.Open)
        {
            if (conn.Draining)
            {
                // Slack keeps the old connection a moment after the disconnect message, then closes it.
                await Task.Delay(300, ct);
                await conn.Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "refresh", ct);
                return;
            }
            (string Id, JsonObject Env)? next = null;
            lock (_gate)
            {
                int inFlight = sentHere.Count(id => !_acked.Contains(id));
                if (inFlight < Window)
                {
                    foreach (var e in _all)
                    {
                        if (_acked.Contains(e.Id) || sentHere.Contains(e.Id)) continue;
                        next = e;
                        break;
                    }
                }
            }
            if (next is null)
            {
                await _signal.WaitAsync(TimeSpan.FromMilliseconds(20), ct);
                continue;
            }
            sentHere.Add(next.Value.Id);
            int attempt;
            lock (_gate)
            {
                attempt = _attempts.GetValueOrDefault(next.Value.Id);
                _attempts[next.Value.Id] = attempt + 1;
            }
            var copy = next.Value.Env.DeepClone().AsObject();
            copy["retry_attempt"] = attempt;
            copy["retry_reason"] = attempt == 0 ? "" : "timeout";
            await conn.SendAsync(copy.ToJsonString());
        }
    }

    private async Task ReceiveAcksAsync(Connection conn, CancellationToken ct)
    {
        var buffer = new byte[64 * 1024];
        while (!ct.IsCancellationRequested)
        {
            var r = await conn.Socket.ReceiveAsync(buffer, ct);
            if (r.MessageType == WebSocketMessageType.Close) return;
            using var doc = JsonDocument.Parse(Encoding.UTF8.GetString(buffer, 0, r.Count));
            if (doc.RootElement.TryGetProperty("envelope_id", out var id))
            {
                string envelopeId = id.GetString()!;
                AckCounts.AddOrUpdate(envelopeId, 1, (_, n) => n + 1);
                lock (_gate) _acked.Add(envelopeId);
                _signal.Release();
            }
        }
    }

    private sealed class Connection(WebSocket socket)
    {
        private readonly SemaphoreSlim _send = new(1, 1);
        public WebSocket Socket { get; } = socket;
        public volatile bool Draining;

        public async Task SendAsync(string json)
        {
            await _send.WaitAsync();
            try
            {
                await Socket.SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text, true, CancellationToken.None);
            }
            finally
            {
                _send.Release();
            }
        }
    }
}
