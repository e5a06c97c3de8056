using Microsoft.AspNetCore.Builder;
using MoltBot.Contracts.Pipeline;

namespace MoltBot.Tests.Gateway;

/// <summary>Starts the whole MoltBot host with the echo handler and a known gateway token.</summary>
public static class GatewayFixture
{
    public const string Token = "test-token-0123456789abcdef";

    public static async Task<(TestHost Host, EchoStreamingHandler Handler)> StartAsync(
        IDictionary<string, string>? settings = null, Action<WebApplicationBuilder>? configure = null)
    {
        var handler = new EchoStreamingHandler();
        var all = new Dictionary<string, string> { ["Gateway:Tokens:0"] = Token };
        foreach (var (k, v) in settings ?? new Dictionary<string, string>()) all[k] = v;
        var host = await TestHost.StartAsync(all, builder =>
        {
            builder.Services.AddSingleton<IMessageHandler>(handler);
            configure?.Invoke(builder);
        });
        return (host, handler);
    }

    public static Uri WebSocketUri(TestHost host) => new(host.BaseAddress.ToString().Replace("http://", "ws://").TrimEnd('/') + "/ws");
}
