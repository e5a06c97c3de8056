using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace MoltBot.DevTools.Sandbox.Platforms;

/// <summary>
/// The Telegram Bot API as documented: POST {root}/bot{token}/{method} with a JSON body, answers
/// {"ok":true,"result":…} or {"ok":false,"error_code","description","parameters":{"retry_after"}}.
/// getUpdates returns the updates with update_id ≥ offset (an offset confirms everything before it), waiting up to
/// the long-poll timeout for new ones.
/// </summary>
public sealed class FakeTelegramServer : FakeServer
{
    public const string DefaultToken = "123456:TEST-token";

    /// <summary>The bot token requests must carry in the path (bot{token}).</summary>
    public string Token { get; init; } = DefaultToken;

    private readonly Lock _gate = new();
    private readonly List<JsonObject> _updates = new();
    private readonly SemaphoreSlim _signal = new(0);
    private int _confirmedBelow;
    private int _nextMessageId = 1000;

    public ConcurrentQueue<long?> PollOffsets { get; } = new();
    public ConcurrentQueue<JsonObject> Sent { get; } = new();
    public ConcurrentQueue<JsonObject> Edits { get; } = new();
    public int ChatActions;
    public int RateLimitNextSends;
    public DateTimeOffset? RateLimitedAt { get; private set; }
    public DateTimeOffset? SentAfterRateLimitAt { get; private set; }

    public void AddUpdate(JsonObject update)
    {
        lock (_gate) _updates.Add(update);
        _signal.Release();
    }

    public static JsonObject TextUpdate(int updateId, long chatId, long userId, string text, int messageId, JsonArray? entities = null)
    {
        var message = new JsonObject
        {
            ["message_id"] = messageId,
            ["from"] = new JsonObject { ["id"] = userId, ["is_bot"] = false, ["first_name"] = "Ada", ["language_code"] = "en" },
            ["chat"] = new JsonObject { ["id"] = chatId, ["type"] = "private", ["first_name"] = "Ada" },
            ["date"] = 1700000000,
            ["text"] = text,
        };
        if (entities is not null) message["entities"] = entities;
        return new JsonObject { ["update_id"] = updateId, ["message"] = message };
    }

    protected override void Map(WebApplication app)
    {
        app.MapPost("/bot{token}/{method}", async (string token, string method, HttpContext ctx) =>
        {
            if (token != Token) return Results.Json(new { ok = false, error_code = 401, description = "Unauthorized" }, statusCode: 401);
            var body = ctx.Request.ContentLength == 0 ? new JsonObject() : (await JsonNode.ParseAsync(ctx.Request.Body))?.AsObject() ?? new JsonObject();
            switch (method)
            {
                case "getMe":
                    return Ok(new JsonObject { ["id"] = 123456, ["is_bot"] = true, ["first_name"] = "MoltBot", ["username"] = "moltbot" });
                case "getUpdates":
                    return Ok(await GetUpdatesAsync(body, ctx.RequestAborted));
                case "sendMessage":
                    if (Interlocked.Decrement(ref RateLimitNextSends) >= 0)
                    {
                        RateLimitedAt ??= DateTimeOffset.UtcNow;
                        return Results.Json(new { ok = false, error_code = 429, description = "Too Many Requests: retry after 1", parameters = new { retry_after = 1 } }, statusCode: 429);
                    }
                    if (RateLimitedAt is not null) SentAfterRateLimitAt ??= DateTimeOffset.UtcNow;
                    Sent.Enqueue(body);
                    OnDelivered(method, body);
                    return Ok(MessageResult(body));
                case "editMessageText":
                    Edits.Enqueue(body);
                    OnDelivered(method, body);
                    return Ok(MessageResult(body));
                case "sendChatAction":
                    Interlocked.Increment(ref ChatActions);
                    return Ok(JsonValue.Create(true));
                default:
                    return Results.Json(new { ok = false, error_code = 404, description = "Not Found: method not found" }, statusCode: 404);
            }
        });
    }

    private async Task<JsonArray> GetUpdatesAsync(JsonObject body, CancellationToken ct)
    {
        long? offset = body["offset"]?.GetValue<long>();
        PollOffsets.Enqueue(offset);
        int timeout = body["timeout"]?.GetValue<int>() ?? 0;
        var deadline = DateTime.UtcNow.AddSeconds(Math.Min(timeout, 1));
        while (true)
        {
            lock (_gate)
            {
                if (offset is { } o) _confirmedBelow = Math.Max(_confirmedBelow, (int)o);
                var ready = _updates.Where(u => u["update_id"]!.GetValue<int>() >= _confirmedBelow).Select(u => u.DeepClone()).ToArray();
                if (ready.Length > 0 || DateTime.UtcNow >= deadline) return new JsonArray(ready);
            }
            try { await _signal.WaitAsync(TimeSpan.FromMilliseconds(50), ct); } catch (OperationCanceledException) { return new JsonArray(); }
        }
    }

    private JsonObject MessageResult(JsonObject body) => new()
    {
        ["message_id"] = body["message_id"]?.GetValue<int>() ?? Interlocked.Increment(ref _nextMessageId),
        ["date"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        ["chat"] = new JsonObject { ["id"] = body["chat_id"]!.DeepClone(), ["type"] = "private" },
        ["text"] = body["text"]?.DeepClone(),
    };

    private static IResult Ok(JsonNode result) => Results.Json(new JsonObject { ["ok"] = true, ["result"] = result });
}
