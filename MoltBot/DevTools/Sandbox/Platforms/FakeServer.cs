using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Logging;

namespace MoltBot.DevTools.Sandbox.Platforms;

/// <summary>
/// Base of the platform fakes: a real Kestrel on 127.0.0.1, port 0, with WebSockets enabled. The channel tests
/// drive them directly; `moltbot sandbox` runs one of each with credentials made for the session.
/// </summary>
public abstract class FakeServer : IAsyncDisposable
{
    private WebApplication? _app;

    /// <summary>
    /// Raised for every API call that delivers a message to a user (the endpoint's method name and its JSON body),
    /// after the fake accepted it; a call the fake refuses (401, 429, 503) raises nothing.
    /// </summary>
    public event Action<string, JsonObject>? Delivered;

    protected void OnDelivered(string method, JsonObject body) => Delivered?.Invoke(method, body);

    public Uri BaseAddress { get; private set; } = null!;
    public string Url => BaseAddress.ToString().TrimEnd('/');
    public string WsUrl => "ws" + Url["http".Length..];

    protected abstract void Map(WebApplication app);

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });
        Map(_app);
        await _app.StartAsync();
        BaseAddress = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    public virtual async ValueTask DisposeAsync()
    {
        if (_app is null) return;
        await _app.StopAsync();
        await _app.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
