using System.Net.Security;
using System.Security.Authentication;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace MoltBot.Security.Tls;

/// <summary>
/// TLS policy. Inbound: every Kestrel HTTPS endpoint (Kestrel:Endpoints:&lt;name&gt;:Url = https://…, with
/// :Certificate:Path/KeyPath/Password) accepts TLS 1.3 only, unless Security:Tls:MinimumInbound is "Tls12"; an
/// endpoint's own Kestrel:Endpoints:&lt;name&gt;:SslProtocols still wins, as ASP.NET Core documents. Outbound: every
/// HttpClient made by IHttpClientFactory (the platform adapters' clients) allows TLS 1.2 and 1.3 only; the OS
/// negotiates 1.3 when the platform offers it.
/// </summary>
public static class TlsSetup
{
    public const SslProtocols Outbound = MoltBot.Contracts.Security.TlsPolicy.Outbound;

    public static SslProtocols Inbound(SecurityOptions options) =>
        options.Tls.MinimumInbound == "Tls12" ? SslProtocols.Tls12 | SslProtocols.Tls13 : SslProtocols.Tls13;

    public static IServiceCollection AddMoltBotTls(this IServiceCollection services)
    {
        services.AddOptions<KestrelServerOptions>().Configure<Microsoft.Extensions.Options.IOptions<SecurityOptions>>((kestrel, security) =>
            kestrel.ConfigureHttpsDefaults(https => https.SslProtocols = Inbound(security.Value)));
        services.ConfigureHttpClientDefaults(b => b.ConfigurePrimaryHttpMessageHandler((handler, _) => RestrictOutbound(handler)));
        return services;
    }

    /// <summary>Applies the outbound policy to a handler (also usable by code that builds its own SocketsHttpHandler).</summary>
    public static void RestrictOutbound(HttpMessageHandler handler)
    {
        switch (handler)
        {
            case SocketsHttpHandler sockets:
                sockets.SslOptions ??= new SslClientAuthenticationOptions();
                sockets.SslOptions.EnabledSslProtocols = Outbound;
                break;
            case HttpClientHandler client:
                client.SslProtocols = Outbound;
                break;
        }
    }
}
