using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace MoltBot.Gateway;

/// <summary>
/// The tokens the gateway accepts: those from Gateway:Tokens plus a random web-chat token made at every start
/// (never written to disk or logs). The web-chat token is handed out only to loopback clients whose request
/// also names a loopback host (defeats DNS rebinding) and is not a cross-site browser request.
/// </summary>
public sealed class GatewayTokens
{
    private readonly byte[][] _configured;
    private readonly byte[] _webChat;
    private readonly bool _loopbackWebChat;

    public GatewayTokens(IOptions<GatewayOptions> options)
    {
        _configured = options.Value.Tokens.Select(t => Encoding.UTF8.GetBytes(t)).ToArray();
        WebChatToken = "wc_" + Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
        _webChat = Encoding.UTF8.GetBytes(WebChatToken);
        _loopbackWebChat = options.Value.LoopbackWebChatToken;
    }

    /// <summary>The per-start web-chat token (valid for /ws and /v1/* while this process runs).</summary>
    public string WebChatToken { get; }

    public bool IsValid(string? token)
    {
        if (string.IsNullOrEmpty(token)) return false;
        var bytes = Encoding.UTF8.GetBytes(token);
        bool ok = false;
        // Compare against every token in constant time so timing does not reveal which one nearly matched.
        foreach (var t in _configured) ok |= CryptographicOperations.FixedTimeEquals(bytes, t);
        if (_loopbackWebChat) ok |= CryptographicOperations.FixedTimeEquals(bytes, _webChat);
        return ok;
    }

    /// <summary>The bearer token of an HTTP request, or null.</summary>
    public static string? BearerOf(HttpRequest request)
    {
        string? header = request.Headers.Authorization;
        if (header is null || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return null;
        return header["Bearer ".Length..].Trim();
    }

    /// <summary>Whether this request may receive the web-chat token.</summary>
    public bool MayReceiveWebChatToken(HttpContext context)
    {
        if (!_loopbackWebChat) return false;
        var remote = context.Connection.RemoteIpAddress;
        if (remote is null || !IPAddress.IsLoopback(remote)) return false;
        string host = context.Request.Host.Host;
        bool loopbackHost = host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
        if (!loopbackHost) return false;
        // Browsers mark requests made by other sites; those must not learn the token.
        string? fetchSite = context.Request.Headers["Sec-Fetch-Site"];
        return fetchSite is null or "same-origin" or "none";
    }
}
