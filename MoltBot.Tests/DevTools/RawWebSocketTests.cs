using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using MoltBot.Bench.Load;
using MoltBot.Tests.Gateway;

namespace MoltBot.Tests.DevTools;

/// <summary>
/// The load generator's RFC 6455 client (<see cref="RawWebSocket"/>): against a scripted server on a loopback socket
/// that checks what the client sends byte by byte, and against the real gateway.
/// </summary>
public class RawWebSocketTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    /// <summary>A one-connection server: answers the upgrade (with <paramref name="acceptOverride"/> if given), then runs <paramref name="script"/>.</summary>
    private static async Task<(Task Server, Uri Uri)> ServeAsync(Func<NetworkStream, Task> script, string? acceptOverride = null)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var server = Task.Run(async () =>
        {
            try
            {
                using var client = await listener.AcceptTcpClientAsync();
                var stream = client.GetStream();
                string request = await ReadHeadersAsync(stream);
                string key = request.Split("\r\n").Single(l => l.StartsWith("Sec-WebSocket-Key:", StringComparison.Ordinal))["Sec-WebSocket-Key:".Length..].Trim();
                Assert.StartsWith("GET /ws HTTP/1.1\r\n", request);
                Assert.Contains("Sec-WebSocket-Version: 13\r\n", request);
                string accept = acceptOverride ?? Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
                await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"));
                await script(stream);
            }
            finally
            {
                listener.Stop();
            }
        });
        return (server, new Uri($"ws://127.0.0.1:{port}/ws"));
    }

    private static async Task<string> ReadHeadersAsync(NetworkStream stream)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        while (!(bytes.Count >= 4 && bytes[^4] == '\r' && bytes[^3] == '\n' && bytes[^2] == '\r' && bytes[^1] == '\n'))
        {
            if (await stream.ReadAsync(one) == 0) throw new IOException("client went away");
            bytes.Add(one[0]);
        }
        return Encoding.ASCII.GetString(bytes.ToArray());
    }

    private static byte[] ServerFrame(int opcode, byte[] payload, bool fin = true)
    {
        int header = payload.Length < 126 ? 2 : payload.Length <= ushort.MaxValue ? 4 : 10;
        var frame = new byte[header + payload.Length];
        frame[0] = (byte)((fin ? 0x80 : 0) | opcode);
        if (header == 2) frame[1] = (byte)payload.Length;
        else if (header == 4) { frame[1] = 126; BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)payload.Length); }
        else { frame[1] = 127; BinaryPrimitives.WriteInt64BigEndian(frame.AsSpan(2), payload.Length); }
        payload.CopyTo(frame, header);
        return frame;
    }

    /// <summary>Reads one client frame, checks it is masked, and returns its opcode and unmasked payload.</summary>
    private static async Task<(int Opcode, byte[] Payload)> ReadClientFrameAsync(NetworkStream stream)
    {
        var head = new byte[2];
        await stream.ReadExactlyAsync(head);
        Assert.True((head[0] & 0x80) != 0, "FIN set");
        Assert.True((head[1] & 0x80) != 0, "client frames must be masked");
        long length = head[1] & 0x7F;
        if (length == 126) { var b = new byte[2]; await stream.ReadExactlyAsync(b); length = BinaryPrimitives.ReadUInt16BigEndian(b); }
        else if (length == 127) { var b = new byte[8]; await stream.ReadExactlyAsync(b); length = BinaryPrimitives.ReadInt64BigEndian(b); }
        var mask = new byte[4];
        await stream.ReadExactlyAsync(mask);
        var payload = new byte[length];
        await stream.ReadExactlyAsync(payload);
        for (int i = 0; i < payload.Length; i++) payload[i] ^= mask[i & 3];
        return (head[0] & 0x0F, payload);
    }

    /// <summary>The masking key of the next client frame (the frame's payload is read and dropped).</summary>
    private static async Task<uint> ReadClientMaskAsync(NetworkStream stream)
    {
        var head = new byte[2];
        await stream.ReadExactlyAsync(head);
        Assert.True((head[1] & 0x80) != 0, "client frames must be masked");
        int length = head[1] & 0x7F;
        Assert.True(length < 126, "a short test frame");
        var mask = new byte[4];
        await stream.ReadExactlyAsync(mask);
        await stream.ReadExactlyAsync(new byte[length]);
        return BinaryPrimitives.ReadUInt32BigEndian(mask);
    }

    [Fact]
    public async Task Every_client_frame_has_its_own_masking_key_and_connections_do_not_share_a_key_sequence()
    {
        const int frames = 32;
        async Task<List<uint>> MasksOfOneConnectionAsync()
        {
            var masks = new List<uint>();
            var (server, uri) = await ServeAsync(async s =>
            {
                for (int i = 0; i < frames; i++) masks.Add(await ReadClientMaskAsync(s));
            });
            await using (var ws = await RawWebSocket.ConnectAsync(uri, CancellationToken.None))
            {
                for (int i = 0; i < frames; i++) await ws.SendTextAsync("{\"n\":1}"u8.ToArray(), CancellationToken.None);
                await server.WaitAsync(Wait);
                ws.Abort();
            }
            return masks;
        }
        var first = await MasksOfOneConnectionAsync();
        var second = await MasksOfOneConnectionAsync();
        // 32-bit keys drawn at random: a repeat among 64 has a chance of about 5e-7.
        Assert.Equal(2 * frames, first.Concat(second).Distinct().Count());
    }

    [Fact]
    public async Task Frames_of_every_length_form_fragments_and_several_per_read_arrive_whole_and_pings_are_answered()
    {
        string big = new('x', 70_000); // 64-bit length
        string medium = new('m', 300); // 16-bit length
        (int Opcode, byte[] Payload) pong = (0, []), sent = (0, []), sentBig = (0, []);
        var (server, uri) = await ServeAsync(async s =>
        {
            // Two frames in one write (read together), a fragmented message around a ping, then the long ones.
            await s.WriteAsync(ServerFrame(1, "{\"a\":1}"u8.ToArray()).Concat(ServerFrame(1, "{\"b\":2}"u8.ToArray())).ToArray());
            await s.WriteAsync(ServerFrame(1, "frag-"u8.ToArray(), fin: false));
            await s.WriteAsync(ServerFrame(9, "p1"u8.ToArray()));
            await s.WriteAsync(ServerFrame(0, "ment"u8.ToArray()));
            pong = await ReadClientFrameAsync(s);
            await s.WriteAsync(ServerFrame(0xA, []));
            await s.WriteAsync(ServerFrame(1, Encoding.UTF8.GetBytes(medium)));
            await s.WriteAsync(ServerFrame(1, Encoding.UTF8.GetBytes(big)));
            sent = await ReadClientFrameAsync(s);
            sentBig = await ReadClientFrameAsync(s);
            var close = new byte[2 + 3];
            BinaryPrimitives.WriteUInt16BigEndian(close, 4001);
            "bye"u8.CopyTo(close.AsSpan(2));
            await s.WriteAsync(ServerFrame(8, close));
        });
        await using (var ws = await RawWebSocket.ConnectAsync(uri, CancellationToken.None))
        {
            string Next(int n) => Encoding.UTF8.GetString(ws.Message(n));
            Assert.Equal("{\"a\":1}", Next(await ws.ReceiveAsync(CancellationToken.None)));
            Assert.Equal("{\"b\":2}", Next(await ws.ReceiveAsync(CancellationToken.None)));
            Assert.Equal("frag-ment", Next(await ws.ReceiveAsync(CancellationToken.None)));
            Assert.Equal(medium, Next(await ws.ReceiveAsync(CancellationToken.None)));
            Assert.Equal(big, Next(await ws.ReceiveAsync(CancellationToken.None)));
            await ws.SendTextAsync("hello"u8.ToArray(), CancellationToken.None);
            await ws.SendTextAsync(Encoding.UTF8.GetBytes(big), CancellationToken.None);
            var closed = await Assert.ThrowsAsync<WebSocketException>(async () => await ws.ReceiveAsync(CancellationToken.None));
            Assert.Contains("4001 bye", closed.Message);
        }
        await server.WaitAsync(Wait);
        Assert.Equal((0xA, "p1"), (pong.Opcode, Encoding.UTF8.GetString(pong.Payload)));
        Assert.Equal((1, "hello"), (sent.Opcode, Encoding.UTF8.GetString(sent.Payload)));
        Assert.Equal(big, Encoding.UTF8.GetString(sentBig.Payload));
    }

    [Fact]
    public async Task A_wrong_accept_key_or_a_masked_server_frame_is_refused()
    {
        var (server, uri) = await ServeAsync(_ => Task.CompletedTask, acceptOverride: "bm90IHRoZSByaWdodCBrZXk=");
        await Assert.ThrowsAsync<WebSocketException>(() => RawWebSocket.ConnectAsync(uri, CancellationToken.None));
        await server.WaitAsync(Wait);

        var release = new TaskCompletionSource();
        (server, uri) = await ServeAsync(async s =>
        {
            await s.WriteAsync(new byte[] { 0x81, 0x82, 1, 2, 3, 4, 0x7A, 0x41 }); // masked: servers must not mask
            await release.Task.WaitAsync(Wait);
        });
        await using (var ws = await RawWebSocket.ConnectAsync(uri, CancellationToken.None))
        {
            var ex = await Assert.ThrowsAsync<WebSocketException>(async () => await ws.ReceiveAsync(CancellationToken.None));
            Assert.Contains("masked", ex.Message);
            ws.Abort();
        }
        release.SetResult();
        await server.WaitAsync(Wait);
    }

    [Fact]
    public async Task Against_the_real_gateway_a_session_sends_and_receives_and_closes_cleanly()
    {
        var (host, _) = await GatewayFixture.StartAsync();
        await using var _h = host;
        await using var client = await GatewayClient.ConnectAsync(host.BaseAddress, GatewayFixture.Token, "raw", CancellationToken.None);
        await client.SendTextAsync("c1", "hello world", CancellationToken.None);
        var types = new List<string>();
        while (types.LastOrDefault() != "reply.final")
        {
            using var frame = await client.ReceiveAsync(CancellationToken.None).WaitAsync(Wait);
            types.Add(frame.RootElement.GetProperty("type").GetString()!);
            if (types[^1] == "reply.final") Assert.Equal("echo: hello world", frame.RootElement.GetProperty("text").GetString());
        }
        Assert.Equal("ack", types[0]);
    }
}
