using System.Net.WebSockets;
using System.Text;
using MoltBot.Gateway.WebSockets;

namespace MoltBot.Tests.Gateway;

/// <summary>
/// Between frames a connection waits with a zero-byte read and holds no receive buffer (WebSocketConnection
/// .ReceiveLoopAsync): with 1,000 connections open that was 4 MB of the server's peak memory. Frames that arrive in
/// pieces, grow past the first buffer, are empty or binary must still be handled as before. Connections also share one
/// logger (each used to hold its own Serilog logger and caches).
/// </summary>
public class WebSocketReceiveBufferTests
{
    [Fact]
    public async Task An_idle_connection_holds_no_receive_buffer_and_a_frame_in_progress_holds_one()
    {
        var (host, _) = await GatewayFixture.StartAsync();
        await using var _h = host;
        var registry = host.Services.GetRequiredService<SessionRegistry>();
        var (client, _, _) = await WsClient.OpenSessionAsync(GatewayFixture.WebSocketUri(host));
        await using var _c = client;
        await client.SendAsync(new { type = "send", id = "m1", text = "hello" });
        Assert.Equal("echo: hello", (string?)(await client.ReceiveUntilAsync("reply.final"))[^1]["text"]);
        var connection = Assert.Single(registry.Connections);
        Assert.True(await Eventually(() => !connection.HoldsReceiveBuffer), "an idle connection still holds its receive buffer");

        // The first half of a frame: the server now holds a buffer for it until the rest arrives.
        byte[] frame = Encoding.UTF8.GetBytes("{\"type\":\"ping\",\"nonce\":\"half\"}");
        await client.Socket.SendAsync(frame.AsMemory(0, 10), WebSocketMessageType.Text, false, CancellationToken.None);
        Assert.True(await Eventually(() => connection.HoldsReceiveBuffer), "a frame in progress has no buffer");
        await client.Socket.SendAsync(frame.AsMemory(10), WebSocketMessageType.Text, true, CancellationToken.None);
        var pong = await client.ReceiveAsync();
        Assert.Equal("pong", (string?)pong["type"]);
        Assert.Equal("half", (string?)pong["nonce"]);
        Assert.True(await Eventually(() => !connection.HoldsReceiveBuffer), "the buffer was not given back after the frame");
    }

    [Fact]
    public async Task A_fragmented_frame_larger_than_the_first_buffer_an_empty_frame_and_a_binary_frame_are_handled()
    {
        var (host, _) = await GatewayFixture.StartAsync();
        await using var _h = host;
        var (client, _, _) = await WsClient.OpenSessionAsync(GatewayFixture.WebSocketUri(host));
        await using var _c = client;

        // More text than the first buffer holds (within Gateway:MaxTextLength, 8,000), sent in fragments of 1,000
        // bytes: the buffer grows while it arrives.
        string text = new('t', WebSocketConnection.InitialReceiveBufferBytes + 2000);
        byte[] bytes = Encoding.UTF8.GetBytes("{\"type\":\"send\",\"id\":\"big\",\"text\":\"" + text + "\"}");
        for (int at = 0; at < bytes.Length; at += 1000)
        {
            int n = Math.Min(1000, bytes.Length - at);
            await client.Socket.SendAsync(bytes.AsMemory(at, n), WebSocketMessageType.Text, at + n == bytes.Length, CancellationToken.None);
        }
        Assert.Equal("echo: " + text, (string?)(await client.ReceiveUntilAsync("reply.final"))[^1]["text"]);

        // An empty text message is not JSON; an empty binary message is still binary.
        await client.Socket.SendAsync(ReadOnlyMemory<byte>.Empty, WebSocketMessageType.Text, true, CancellationToken.None);
        Assert.Equal("invalid_json", (string?)(await client.ReceiveAsync())["code"]);
        await client.Socket.SendAsync(ReadOnlyMemory<byte>.Empty, WebSocketMessageType.Binary, true, CancellationToken.None);
        Assert.Equal("binary_not_supported", (string?)(await client.ReceiveAsync())["code"]);

        // And the connection still works, then closes normally at the client's close frame.
        await client.SendAsync(new { type = "send", id = "after", text = "still here" });
        Assert.Equal("echo: still here", (string?)(await client.ReceiveUntilAsync("reply.final"))[^1]["text"]);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await client.Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", cts.Token);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, client.Socket.CloseStatus);
    }

    [Fact]
    public async Task Connections_share_one_logger_instead_of_creating_one_each()
    {
        var (host, _) = await GatewayFixture.StartAsync();
        await using var _h = host;
        var registry = host.Services.GetRequiredService<SessionRegistry>();
        var (a, _, _) = await WsClient.OpenSessionAsync(GatewayFixture.WebSocketUri(host), "ann");
        await using var _a = a;
        var (b, _, _) = await WsClient.OpenSessionAsync(GatewayFixture.WebSocketUri(host), "ben");
        await using var _b = b;
        var connections = registry.Connections.ToArray();
        Assert.Equal(2, connections.Length);
        Assert.Same(connections[0].Logger, connections[1].Logger);
    }

    private static async Task<bool> Eventually(Func<bool> condition)
    {
        for (int i = 0; i < 200; i++)
        {
            if (condition()) return true;
            await Task.Delay(25);
        }
        return condition();
    }
}
