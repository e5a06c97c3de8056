using System.Net.WebSockets;
using System.Text.Json;

namespace MoltBot.Bench.Load;

/// <summary>A minimal client of MoltBot's WebSocket protocol (docs/protocol.md) for the load generator.</summary>
public sealed class GatewayClient : IAsyncDisposable
{
    private readonly ClientWebSocket _ws = new();
    private readonly byte[] _buffer = new byte[256 * 1024];

    public static async Task<GatewayClient> ConnectAsync(Uri http, string token, string user, CancellationToken ct)
    {
        var client = new GatewayClient();
        var ws = new UriBuilder(http) { Scheme = http.Scheme == "https" ? "wss" : "ws", Path = "/ws" }.Uri;
        await client._ws.ConnectAsync(ws, ct);
        using (var hello = await client.ReceiveAsync(ct))
        {
            if (hello.RootElement.GetProperty("type").GetString() != "hello") throw new InvalidOperationException("no hello");
        }
        await client.SendAsync(new { type = "auth", token, user }, ct);
        using (var session = await client.ReceiveAsync(ct))
        {
            string? type = session.RootElement.GetProperty("type").GetString();
            if (type != "session") throw new InvalidOperationException("auth failed: " + session.RootElement);
        }
        return client;
    }

    public Task SendTextAsync(string id, string text, CancellationToken ct) => SendAsync(new { type = "send", id, text }, ct);

    public async Task SendAsync(object frame, CancellationToken ct)
    {
        byte[] bytes = JsonSerializer.SerializeToUtf8Bytes(frame);
        await _ws.SendAsync(bytes, WebSocketMessageType.Text, true, ct);
    }

    /// <summary>Next frame, parsed (handshakes and one-off reads; the load loop uses <see cref="ReceiveFrameAsync"/>).</summary>
    public async Task<JsonDocument> ReceiveAsync(CancellationToken ct)
    {
        int count = await ReceiveFrameAsync(ct);
        return JsonDocument.Parse(_buffer.AsMemory(0, count));
    }

    /// <summary>
    /// Next frame's length; its bytes are <see cref="Frame"/> until the next receive. No allocation: the load loop
    /// scans the bytes itself. Throws when the server closes the connection.
    /// </summary>
    public async ValueTask<int> ReceiveFrameAsync(CancellationToken ct)
    {
        int count = 0;
        while (true)
        {
            var r = await _ws.ReceiveAsync(_buffer.AsMemory(count), ct);
            if (r.MessageType == WebSocketMessageType.Close) throw new WebSocketException($"closed by server: {_ws.CloseStatus} {_ws.CloseStatusDescription}");
            count += r.Count;
            if (r.EndOfMessage) return count;
            if (count == _buffer.Length) throw new InvalidDataException("frame larger than the client buffer");
        }
    }

    /// <summary>The bytes of the frame <see cref="ReceiveFrameAsync"/> returned last.</summary>
    public ReadOnlySpan<byte> Frame(int count) => _buffer.AsSpan(0, count);

    /// <summary>Sends an already encoded text frame (see <see cref="SendFrameEncoder"/>).</summary>
    public ValueTask SendEncodedAsync(ReadOnlyMemory<byte> frame, CancellationToken ct) =>
        _ws.SendAsync(frame, WebSocketMessageType.Text, true, ct);

    /// <summary>Drops the connection: a pending receive or send fails at once (the reply timeout's way out).</summary>
    public void Abort() => _ws.Abort();

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_ws.State == WebSocketState.Open)
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", cts.Token);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException) { }
        _ws.Dispose();
    }
}
