using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace MoltBot.DevTools.Sandbox.Platforms;

/// <summary>
/// The Graph API side of the WhatsApp Cloud API: POST /{phone-number-id}/messages (Bearer token) answers
/// {"messaging_product","contacts","messages":[{"id":"wamid…"}]}; GET /{phone-number-id} for the health ping.
/// It can play "down" (HTTP 503) to test the outbox. <see cref="Sign"/> makes the X-Hub-Signature-256 Meta sends.
/// </summary>
public sealed class FakeWhatsAppServer : FakeServer
{
    public const string DefaultPhoneNumberId = "109876543210";
    public const string DefaultAccessToken = "EAAG-test";
    public const string DefaultAppSecret = "app-secret";
    public const string DefaultVerifyToken = "verify-me";

    /// <summary>The business phone number id (path of the send endpoint, metadata of webhooks).</summary>
    public string PhoneNumberId { get; init; } = DefaultPhoneNumberId;

    /// <summary>The Graph API access token sends must carry (Bearer).</summary>
    public string AccessToken { get; init; } = DefaultAccessToken;

    /// <summary>The app secret that signs webhooks (X-Hub-Signature-256).</summary>
    public string AppSecret { get; init; } = DefaultAppSecret;

    /// <summary>The token of the GET verification handshake.</summary>
    public string VerifyToken { get; init; } = DefaultVerifyToken;

    public ConcurrentQueue<JsonObject> Sent { get; } = new();
    public volatile bool Down;
    public int RefusedWhileDown;

    public static string Sign(string body, string secret = DefaultAppSecret) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(body)));

    public static string TextWebhook(string from, string wamid, string text, long unixSeconds, string? contextId = null, string phoneNumberId = DefaultPhoneNumberId)
    {
        var message = new JsonObject
        {
            ["from"] = from,
            ["id"] = wamid,
            ["timestamp"] = unixSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["type"] = "text",
            ["text"] = new JsonObject { ["body"] = text },
        };
        if (contextId is not null) message["context"] = new JsonObject { ["from"] = phoneNumberId, ["id"] = contextId };
        return Wrap(new JsonObject
        {
            ["messaging_product"] = "whatsapp",
            ["metadata"] = new JsonObject { ["display_phone_number"] = "15550000000", ["phone_number_id"] = phoneNumberId },
            ["contacts"] = new JsonArray(new JsonObject { ["profile"] = new JsonObject { ["name"] = "Ada" }, ["wa_id"] = from }),
            ["messages"] = new JsonArray(message),
        });
    }

    public static string Wrap(JsonObject value) => new JsonObject
    {
        ["object"] = "whatsapp_business_account",
        ["entry"] = new JsonArray(new JsonObject
        {
            ["id"] = "WABA1",
            ["changes"] = new JsonArray(new JsonObject { ["field"] = "messages", ["value"] = value }),
        }),
    }.ToJsonString();

    protected override void Map(WebApplication app)
    {
        app.MapGet("/{phone}", (string phone, HttpContext ctx) =>
            Down ? Results.StatusCode(503) : Results.Json(new { id = phone, display_phone_number = "15550000000" }));
        app.MapPost("/{phone}/messages", async (string phone, HttpContext ctx) =>
        {
            if (ctx.Request.Headers.Authorization != "Bearer " + AccessToken)
            {
                return Results.Json(new { error = new { message = "Invalid OAuth access token.", type = "OAuthException", code = 190 } }, statusCode: 401);
            }
            if (Down)
            {
                Interlocked.Increment(ref RefusedWhileDown);
                return Results.Json(new { error = new { message = "Service temporarily unavailable", code = 2 } }, statusCode: 503);
            }
            var body = (await JsonNode.ParseAsync(ctx.Request.Body))!.AsObject();
            body["_phone"] = phone;
            Sent.Enqueue(body);
            OnDelivered("messages", body);
            return Results.Json(new
            {
                messaging_product = "whatsapp",
                contacts = new[] { new { input = body["to"]?.GetValue<string>(), wa_id = body["to"]?.GetValue<string>() } },
                messages = new[] { new { id = "wamid.out" + Sent.Count } },
            });
        });
    }
}
