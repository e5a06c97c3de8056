using System.Collections.Concurrent;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace MoltBot.DevTools.Sandbox.Platforms;

/// <summary>
/// Discord Gateway v10 and REST as documented: GET /api/v10/gateway/bot → {"url"}; the socket sends HELLO (op 10),
/// takes IDENTIFY (op 2) → READY (with session_id, resume_gateway_url) or RESUME (op 6) → missed events replayed,
/// then RESUMED; answers HEARTBEAT (op 1) with HEARTBEAT_ACK (op 11) unless told to play dead; can send RECONNECT
/// (op 7) and INVALID_SESSION (op 9). REST POST /api/v10/channels/{id}/messages with X-RateLimit-* bucket headers,
/// a 429 ({"retry_after","global"}) when a bucket is exhausted or on request.
/// </summary>
public sealed class FakeDiscordServer : FakeServer
{
    public const string DefaultToken = "discord-bot-token";

    /// <summary>The bot token REST calls must carry ("Authorization: Bot &lt;token&gt;").</summary>
    public string Token { get; init; } = DefaultToken;

    private readonly Lock _gate = new();
    private readonly List<(long Seq, string Json)> _events = new();
    private long _seq;
    private int _sessions;
    private volatile Conn? _current;
    private int _bucketRemaining;
    private DateTimeOffset _bucketReset = DateTimeOffset.MinValue;

    public int HeartbeatMs { get; set; } = 41250;
    public volatile bool StopAcking;
    public ConcurrentQueue<JsonObject> Identifies { get; } = new();
    public ConcurrentQueue<JsonObject> Resumes { get; } = new();
    public ConcurrentQueue<string> ConnectPaths { get; } = new();
    public int Heartbeats;
    public ConcurrentQueue<(string Channel, JsonObject Body, DateTimeOffset At)> Messages { get; } = new();
    public int Typing;

    /// <summary>Bucket size of POST /channels/{id}/messages and its reset time; exceeding it draws a 429.</summary>
    public int BucketSize { get; set; } = 5;
    public double BucketResetSeconds { get; set; } = 1;
    public int RateLimitNext;
    public int TooManyRequestsAnswered;
    public string? SessionId { get; private set; }

    public long LastSeq
    {
        get { lock (_gate) return _seq; }
    }

    public bool Connected => _current is not null;

    public Task DispatchAsync(string t, JsonObject d)
    {
        string json;
        lock (_gate)
        {
            long s = ++_seq;
            json = new JsonObject { ["op"] = 0, ["t"] = t, ["s"] = s, ["d"] = d }.ToJsonString();
            _events.Add((s, json));
        }
        return _current?.SendAsync(json) ?? Task.CompletedTask;
    }

    public static JsonObject Message(string id, string channel, string userId, string content, string? guild = "G1") => new()
    {
        ["id"] = id,
        ["channel_id"] = channel,
        ["guild_id"] = guild,
        ["author"] = new JsonObject { ["id"] = userId, ["username"] = "user" + userId, ["global_name"] = "User " + userId },
        ["content"] = content,
        ["timestamp"] = "2024-01-02T03:04:05.678000+00:00",
        ["edited_timestamp"] = null,
        ["attachments"] = new JsonArray(),
        ["mentions"] = new JsonArray(),
        ["type"] = 0,
    };

    public Task SendReconnectAsync() => _current!.SendAsync("{\"op\":7,\"d\":null}");
    public Task SendInvalidSessionAsync(bool resumable) => _current!.SendAsync("{\"op\":9,\"d\":" + (resumable ? "true" : "false") + "}");

    protected override void Map(WebApplication app)
    {
        app.MapGet("/api/v10/gateway/bot", (HttpContext ctx) =>
            ctx.Request.Headers.Authorization == "Bot " + Token
                ? Results.Json(new { url = WsUrl + "/gateway", shards = 1, session_start_limit = new { total = 1000, remaining = 999, reset_after = 0, max_concurrency = 1 } })
                : Results.Json(new { message = "401: Unauthorized", code = 0 }, statusCode: 401));
        app.Map("/gateway", Socket);
        app.Map("/resume", Socket);
        app.MapPost("/api/v10/channels/{id}/typing", (string id) => { Interlocked.Increment(ref Typing); return Results.NoContent(); });
        app.MapPost("/api/v10/channels/{id}/messages", async (string id, HttpContext ctx) =>
        {
            if (ctx.Request.Headers.Authorization != "Bot " + Token) return Results.Json(new { message = "401: Unauthorized", code = 0 }, statusCode: 401);
            var body = (await JsonNode.ParseAsync(ctx.Request.Body))!.AsObject();
            var now = DateTimeOffset.UtcNow;
            bool limited;
            double resetAfter;
            lock (_gate)
            {
                if (now >= _bucketReset)
                {
                    _bucketRemaining = BucketSize;
                    _bucketReset = now.AddSeconds(BucketResetSeconds);
                }
                limited = Interlocked.Decrement(ref RateLimitNext) >= 0 || _bucketRemaining <= 0;
                if (!limited) _bucketRemaining--;
                resetAfter = Math.Max(0, (_bucketReset - now).TotalSeconds);
                ctx.Response.Headers["X-RateLimit-Limit"] = BucketSize.ToString(CultureInfo.InvariantCulture);
                ctx.Response.Headers["X-RateLimit-Remaining"] = _bucketRemaining.ToString(CultureInfo.InvariantCulture);
                ctx.Response.Headers["X-RateLimit-Reset-After"] = resetAfter.ToString("F3", CultureInfo.InvariantCulture);
                ctx.Response.Headers["X-RateLimit-Bucket"] = "bucket-messages";
            }
            if (limited)
            {
                Interlocked.Increment(ref TooManyRequestsAnswered);
                ctx.Response.Headers.RetryAfter = "1";
                return Results.Json(new { message = "You are being rate limited.", retry_after = 0.5, global = false }, statusCode: 429);
            }
            Messages.Enqueue((id, body, now));
            OnDelivered("channels/" + id + "/messages", body);
            return Results.Json(new { id = "reply-" + Messages.Count, channel_id = id, content = body["content"]?.GetValue<string>() });
        });
    }

    private async Task Socket(HttpContext ctx)
    {
        if (!ctx.WebSockets.IsWebSocketRequest) { ctx.Response.StatusCode = 400; return; }
        ConnectPaths.Enqueue(ctx.Request.Path + ctx.Request.QueryString);
        using var ws = await ctx.WebSockets.AcceptWebSocketAsync();
        var conn = new Conn(ws);
        try
        {
            await conn.SendAsync(new JsonObject { ["op"] = 10, ["d"] = new JsonObject { ["heartbeat_interval"] = HeartbeatMs } }.ToJsonString());
            var buffer = new byte[64 * 1024];
            while (ws.State == WebSocketState.Open)
            {
                var r = await ws.ReceiveAsync(buffer, ctx.RequestAborted);
                if (r.MessageType == WebSocketMessageType.Close) break;
                var msg = JsonNode.Parse(Encoding.UTF8.GetString(buffer, 0, r.Count))!.AsObject();
                switch (msg["op"]!.GetValue<int>())
                {
                    case 1:
                        Interlocked.Increment(ref Heartbeats);
                        if (!StopAcking) await conn.SendAsync("{\"op\":11}");
                        break;
                    case 2:
                        Identifies.Enqueue(msg);
                        SessionId = "session-" + Interlocked.Increment(ref _sessions);
                        _current = conn;
                        await DispatchAsync("READY", new JsonObject
                        {
                            ["v"] = 10,
                            ["user"] = new JsonObject { ["id"] = "BOT", ["username"] = "moltbot", ["bot"] = true },
                            ["guilds"] = new JsonArray(),
                            ["session_id"] = SessionId,
                            ["resume_gateway_url"] = WsUrl + "/resume",
                            ["application"] = new JsonObject { ["id"] = "APP" },
                        });
                        break;
                    case 6:
                        Resumes.Enqueue(msg);
                        var d = msg["d"]!.AsObject();
                        if (d["session_id"]?.GetValue<string>() != SessionId)
                        {
                            await conn.SendAsync("{\"op\":9,\"d\":false}");
                            break;
                        }
                        long from = d["seq"]?.GetValue<long>() ?? 0;
                        List<string> missed;
                        lock (_gate) missed = _events.Where(e => e.Seq > from).Select(e => e.Json).ToList();
                        foreach (var json in missed) await conn.SendAsync(json);
                        _current = conn;
                        await DispatchAsync("RESUMED", new JsonObject());
                        break;
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
        }
        finally
        {
            if (_current == conn) _current = null;
        }
    }

    private sealed class Conn(WebSocket ws)
    {
        private readonly SemaphoreSlim _send = new(1, 1);

        public async Task SendAsync(string json)
        {
            await _send.WaitAsync();
            try
            {
                if (ws.State == WebSocketState.Open) await ws.SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text, true, CancellationToken.None);
            }
            catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException)
            {
            }
            finally
            {
                _send.Release();
            }
        }
    }
}
