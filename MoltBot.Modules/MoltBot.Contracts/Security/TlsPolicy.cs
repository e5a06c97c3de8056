using System.Security.Authentication;

namespace MoltBot.Contracts.Security;

/// <summary>
/// The outbound TLS versions MoltBot allows for platform connections: 1.2 and 1.3 (1.3 is negotiated whenever the
/// platform offers it). HttpClients from IHttpClientFactory get this from the security module automatically; a
/// module that builds its own SocketsHttpHandler or ClientWebSocket sets
/// <c>SslOptions.EnabledSslProtocols = TlsPolicy.Outbound</c>.
/// </summary>
public static class TlsPolicy
{
    public const SslProtocols Outbound = SslProtocols.Tls12 | SslProtocols.Tls13;
}
