using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using MoltBot.Security.Tls;

namespace MoltBot.Tests.Security;

public sealed class TlsTests : IAsyncLifetime
{
    private string _certDir = "";
    private TestHost _host = null!;
    private int _port;

    public async Task InitializeAsync()
    {
        _certDir = Directory.CreateTempSubdirectory("moltbot-cert").FullName;
        using var cert = DevCertificate.Create([], 2, TimeProvider.System);
        var (certPath, keyPath) = DevCertificate.WritePem(cert, _certDir);
        _host = await SecurityTestHost.StartAsync(new Dictionary<string, string>
        {
            ["Kestrel:Endpoints:Https:Url"] = "https://127.0.0.1:0",
            ["Kestrel:Endpoints:Https:Certificate:Path"] = certPath,
            ["Kestrel:Endpoints:Https:Certificate:KeyPath"] = keyPath,
        }, configure: b => b.Services.AddHttpClient("platform-test")
            // Test only: trust the self-signed dev certificate; the TLS version policy comes from the defaults.
            .ConfigurePrimaryHttpMessageHandler((h, _) => ((SocketsHttpHandler)h).SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true));
        string address = _host.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .Single(a => a.StartsWith("https://", StringComparison.Ordinal));
        _port = new Uri(address).Port;
    }

    private async Task<(SslProtocols Protocol, string Response)> HandshakeAsync(SslProtocols offered)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", _port);
        await using var ssl = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            EnabledSslProtocols = offered,
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        });
        await ssl.WriteAsync("GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"u8.ToArray());
        var buffer = new byte[4096];
        int n = await ssl.ReadAsync(buffer);
        return (ssl.SslProtocol, Encoding.ASCII.GetString(buffer, 0, n));
    }

    [Fact]
    public async Task A_tls13_client_connects()
    {
        var (protocol, response) = await HandshakeAsync(SslProtocols.Tls13);
        Assert.Equal(SslProtocols.Tls13, protocol);
        Assert.StartsWith("HTTP/1.1 200", response);
    }

    [Fact]
    public async Task A_client_offering_only_tls12_is_refused()
    {
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => HandshakeAsync(SslProtocols.Tls12));
        Assert.True(ex is AuthenticationException or IOException, ex.ToString());
    }

    [Fact]
    public async Task Factory_http_clients_allow_tls12_and_tls13_only_and_reach_a_tls13_server()
    {
        var factory = _host.Services.GetRequiredService<IHttpMessageHandlerFactory>();
        HttpMessageHandler handler = factory.CreateHandler("some-platform");
        while (handler is DelegatingHandler d) handler = d.InnerHandler!;
        var protocols = handler switch
        {
            SocketsHttpHandler s => s.SslOptions.EnabledSslProtocols,
            HttpClientHandler c => c.SslProtocols,
            _ => throw new InvalidOperationException(handler.GetType().Name),
        };
        Assert.Equal(SslProtocols.Tls12 | SslProtocols.Tls13, protocols);

        using var client = _host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("platform-test");
        var response = await client.GetAsync($"https://127.0.0.1:{_port}/healthz");
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        try { Directory.Delete(_certDir, true); } catch (IOException) { }
    }
}
