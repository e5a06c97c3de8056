using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace MoltBot.DevTools.Sandbox.Platforms;

/// <summary>
/// A BlueBubbles server's REST API: every call carries ?password=; GET /api/v1/ping → {"status":200,"data":"pong"};
/// POST /api/v1/message/text {chatGuid, tempGuid, message, method} → {"status":200,"data":{guid,…}}.
/// </summary>
public sealed class FakeBlueBubblesServer : FakeServer
{
    public const string DefaultPassword = "bb-pass";

    /// <summary>The server password every call must carry as ?password=.</summary>
    public string Password { get; init; } = DefaultPassword;

    public ConcurrentQueue<JsonObject> Sent { get; } = new();
    public int WrongPassword;

    public static string NewMessage(string guid, string chatGuid, string address, string text, long dateCreatedMs, bool fromMe = false) => new JsonObject
    {
        ["type"] = "new-message",
        ["data"] = new JsonObject
        {
            ["guid"] = guid,
            ["text"] = text,
            ["isFromMe"] = fromMe,
            ["dateCreated"] = dateCreatedMs,
            ["handle"] = new JsonObject { ["address"] = address, ["service"] = "iMessage" },
            ["chats"] = new JsonArray(new JsonObject { ["guid"] = chatGuid, ["chatIdentifier"] = address, ["displayName"] = "" }),
            ["attachments"] = new JsonArray(),
        },
    }.ToJsonString();

    protected override void Map(WebApplication app)
    {
        app.MapGet("/api/v1/ping", (HttpContext ctx) => Authorized(ctx)
            ? Results.Json(new { status = 200, message = "Ping received!", data = "pong" })
            : Results.Json(new { status = 401, message = "Unauthorized" }, statusCode: 401));
        app.MapPost("/api/v1/message/text", async (HttpContext ctx) =>
        {
            if (!Authorized(ctx))
            {
                Interlocked.Increment(ref WrongPassword);
                return Results.Json(new { status = 401, message = "Unauthorized" }, statusCode: 401);
            }
            var body = (await JsonNode.ParseAsync(ctx.Request.Body))!.AsObject();
            Sent.Enqueue(body);
            OnDelivered("message/text", body);
            return Results.Json(new { status = 200, message = "Message sent!", data = new { guid = "out-" + Sent.Count, text = body["message"]?.GetValue<string>() } });
        });
    }

    private bool Authorized(HttpContext ctx) => ctx.Request.Query["password"] == Password;
}
