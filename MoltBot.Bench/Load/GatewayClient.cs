using System.Text.Json;

namespace MoltBot.Bench.Load;

/// <summary>A minimal client of MoltBot's WebSocket protocol (docs/protocol.md) for the load generator, on <see cref="RawWebSocket"/>.</summary>
public sealed class GatewayClient : IAsyncDisposable
{
    private readonly RawWebSocket _ws;

    private GatewayClient(RawWebSocket ws) => _ws = ws;

    public static async Task<GatewayClient> ConnectAsync(Uri http, string token, string user, CancellationToken ct)
    {
        if (http.Scheme != "http") throw new ArgumentException($"The load generator connects over plain http/ws only, not {http.Scheme}.", nameof(http));
        var ws = new UriBuilder(http) { Scheme = "ws", Path = "/ws" }.Uri;
        var client = new GatewayClient(await RawWebSocket.ConnectAsync(ws, ct));
        try
        {
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
        catch
        {
            client.Abort();
            await client.DisposeAsync();
            throw;
        }
    }

    public Task SendTextAsync(string id, string text, CancellationToken ct) => SendAsync(new { type = "send", id, text }, ct);

    public async Task SendAsync(object frame, CancellationToken ct)
    {
        byte[] bytes = JsonSerializer.SerializeToUtf8Bytes(frame);
        await _ws.SendTextAsync(bytes, ct);
    }

    /// <summary>Next frame, parsed (handshakes and one-off reads; the load loop uses <see cref="ReceiveFrameAsync"/>).</summary>
    public async Task<JsonDocument> ReceiveAsync(CancellationToken ct)
    {
        int count = await ReceiveFrameAsync(ct);
        return JsonDocument.Parse(_ws.Message(count).ToArray());
    }

    /// <summary>
    /// Next frame's length; its bytes are <see cref="Frame"/> until the next receive. No allocation: the load loop
    /// scans the bytes itself. Throws when the server closes the connection.
    /// </summary>
    public ValueTask<int> ReceiveFrameAsync(CancellationToken ct) => _ws.ReceiveAsync(ct);

    /// <summary>The bytes of the frame <see cref="ReceiveFrameAsync"/> returned last.</summary>
    public ReadOnlySpan<byte> Frame(int count) => _ws.Message(count);

    /// <summary>Sends an already encoded text frame (see <see cref="SendFrameEncoder"/>).</summary>
    public ValueTask SendEncodedAsync(ReadOnlyMemory<byte> frame, CancellationToken ct) =>
        _ws.SendTextAsync(frame, ct);

    /// <summary>Drops the connection: a pending receive or send fails at once (the reply timeout's way out).</summary>
    public void Abort() => _ws.Abort();

    public ValueTask DisposeAsync() => _ws.DisposeAsync();
}
