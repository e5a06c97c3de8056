using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MoltBot.Tests.Gateway;

/// <summary>A thin test client for the /ws protocol: JSON frames in and out, every wait bounded.</summary>
public sealed class WsClient : IAsyncDisposable
{
    private readonly byte[] _buffer = new byte[1 << 20];

    private WsClient(ClientWebSocket socket) => Socket = socket;

    public ClientWebSocket Socket { get; }

    public static async Task<WsClient> ConnectAsync(Uri uri, TimeSpan? keepAlive = null)
    {
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = keepAlive ?? TimeSpan.Zero;
        socket.Options.CollectHttpResponseDetails = true;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await socket.ConnectAsync(uri, cts.Token);
        return new WsClient(socket);
    }

    /// <summary>Connects, reads hello, authenticates and reads the session frame.</summary>
    public static async Task<(WsClient Client, JsonObject Hello, JsonObject Session)> OpenSessionAsync(Uri uri, string user = "alice", object? resume = null)
    {
        var client = await ConnectAsync(uri);
        var hello = await client.ReceiveAsync();
        await client.SendAsync(new { type = "auth", token = GatewayFixture.Token, user, resume });
        var session = await client.ReceiveAsync();
        return (client, hello, session);
    }

    public Task SendAsync(object frame) => SendTextAsync(JsonSerializer.Serialize(frame));

    public async Task SendTextAsync(string text)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await Socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, cts.Token);
    }

    /// <summary>The next frame as JSON; throws if the server closes or nothing comes within the timeout.</summary>
    public async Task<JsonObject> ReceiveAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        int count = 0;
        while (true)
        {
            var r = await Socket.ReceiveAsync(_buffer.AsMemory(count), cts.Token);
            if (r.MessageType == WebSocketMessageType.Close)
                throw new InvalidOperationException($"server closed: {Socket.CloseStatus} {Socket.CloseStatusDescription}");
            count += r.Count;
            if (r.EndOfMessage) break;
        }
        return JsonNode.Parse(Encoding.UTF8.GetString(_buffer, 0, count))!.AsObject();
    }

    /// <summary>Reads frames until one of the given types arrives; returns all frames read, that one last.</summary>
    public async Task<List<JsonObject>> ReceiveUntilAsync(params string[] types)
    {
        var frames = new List<JsonObject>();
        while (true)
        {
            var f = await ReceiveAsync();
            frames.Add(f);
            if (types.Contains((string?)f["type"])) return frames;
        }
    }

    /// <summary>Reads until the server's close frame; returns its status code.</summary>
    public async Task<int?> ReceiveCloseAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var r = await Socket.ReceiveAsync(_buffer.AsMemory(), cts.Token);
            if (r.MessageType == WebSocketMessageType.Close) return (int?)Socket.CloseStatus;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Socket.State == WebSocketState.Open)
        {
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", cts.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
            }
        }
        Socket.Dispose();
    }
}
