using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using MoltBot.Gateway.Http;

namespace MoltBot.Gateway.WebChat;

/// <summary>
/// The web chat page: static files embedded in this assembly (no CDN, works offline), and GET /webchat/token,
/// which hands the per-start web-chat token to loopback clients only (see docs/protocol.md, "Web chat token").
/// </summary>
internal static class WebChatEndpoints
{
    private static readonly (string Path, string Resource, string ContentType)[] Files =
    [
        ("/", "index.html", "text/html; charset=utf-8"),
        ("/webchat/app.js", "app.js", "text/javascript; charset=utf-8"),
        ("/webchat/app.css", "app.css", "text/css; charset=utf-8"),
    ];

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        foreach (var (path, resource, contentType) in Files)
        {
            byte[] content = Load(resource);
            endpoints.MapGet(path, (HttpContext context) =>
            {
                var h = context.Response.Headers;
                h.ContentSecurityPolicy = "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'";
                h.XContentTypeOptions = "nosniff";
                h["Referrer-Policy"] = "no-referrer";
                h.CacheControl = "no-cache";
                return Results.Bytes(content, contentType);
            });
        }
        endpoints.MapGet("/webchat/token", async (HttpContext context) =>
        {
            var tokens = context.RequestServices.GetRequiredService<GatewayTokens>();
            context.Response.Headers.CacheControl = "no-store";
            if (!tokens.MayReceiveWebChatToken(context))
            {
                await ApiErrors.WriteAsync(context, StatusCodes.Status403Forbidden, ApiErrors.Authentication, "loopback_only",
                    "The web-chat token is only given to same-site requests from this machine (127.0.0.1/localhost); enter a Gateway:Tokens token instead.");
                return;
            }
            // Written directly, like the gateway's other JSON: the reflection serializer's first use (metadata for an
            // anonymous type, options set-up) cost more than the rest of this request, and it is every client's first.
            context.Response.ContentType = "application/json; charset=utf-8";
            await using var w = new Utf8JsonWriter(context.Response.Body);
            w.WriteStartObject();
            w.WriteString("token", tokens.WebChatToken);
            w.WriteEndObject();
        });
    }

    private static byte[] Load(string name)
    {
        var assembly = typeof(WebChatEndpoints).Assembly;
        using var stream = assembly.GetManifestResourceStream("MoltBot.Gateway.WebChat." + name)
            ?? throw new InvalidOperationException($"Embedded web chat file {name} is missing from {assembly.GetName().Name}.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
