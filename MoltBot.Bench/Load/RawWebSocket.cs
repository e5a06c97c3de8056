using System.Buffers.Binary;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;

namespace MoltBot.Bench.Load;

/// <summary>
/// The load generator's WebSocket client (RFC 6455, plain ws:// only) straight on a socket. The generator shares the
/// two cores with the server it measures, so its cost per message limits what can be measured: ClientWebSocket's
/// stream layers cost ≈ a third of the generator's CPU, and it hands out one frame per receive call, where this reads
/// everything the kernel has (an ack and a reply.final sent together come in one read). What goes over the wire is
/// the same: an upgrade handshake checked against Sec-WebSocket-Accept, masked client frames, pings answered.
/// One receiver at a time; sends are serialized (a pong from the receiver may meet a send from a sender task).
/// </summary>
public sealed class RawWebSocket : IAsyncDisposable
{
    private const string AcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    private readonly Socket _socket;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private byte[] _in = new byte[64 * 1024]; // bytes received and not yet parsed: [_start, _end)
    private int _start, _end;
    private byte[] _message = new byte[16 * 1024]; // the payload of the last complete text message
    private byte[] _out = new byte[4 * 1024];
    private int _closed;
    // Masking keys (RFC 6455 §5.3): a per-connection generator seeded from the OS's secure one. RandomNumberGenerator per
    // frame went through OpenSSL's DRBG (an AES-CTR block, parameter look-ups and read-write locks) for every message the
    // generator sent (docs/performance.md, "hops9": the generator's CPU in its measuring window fell from 0.046 to
    // 0.042 ms per message, 9 of 10 pairs lower). The key exists so that a script cannot choose the bytes an intermediary
    // sees (RFC 6455 §10.3); the generator sends its own frames to a server under test. The server unmasks any key, so
    // nothing the generator checks depends on it.
    private readonly Random _masks = new(BitConverter.ToInt32(RandomNumberGenerator.GetBytes(4)));

    private RawWebSocket(Socket socket) => _socket = socket;

    /// <summary>Largest message accepted (the server's frames are far smaller).</summary>
    public int MaxMessageBytes { get; init; } = 256 * 1024;

    public static async Task<RawWebSocket> ConnectAsync(Uri uri, CancellationToken ct)
    {
        if (uri.Scheme != "ws") throw new ArgumentException($"The load generator speaks plain ws:// only, not {uri.Scheme}://.", nameof(uri));
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var ws = new RawWebSocket(socket);
        try
        {
            await socket.ConnectAsync(uri.Host, uri.Port, ct);
            await ws.HandshakeAsync(uri, ct);
            return ws;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task HandshakeAsync(Uri uri, CancellationToken ct)
    {
        string key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        string request = $"GET {uri.PathAndQuery} HTTP/1.1\r\nHost: {uri.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                         $"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n";
        await SendAllAsync(Encoding.ASCII.GetBytes(request), ct);
        int headerEnd;
        while ((headerEnd = _in.AsSpan(0, _end).IndexOf("\r\n\r\n"u8)) < 0)
        {
            if (_end == _in.Length) throw new WebSocketException("the upgrade response headers are too large");
            await ReceiveMoreAsync(ct);
        }
        string[] lines = Encoding.ASCII.GetString(_in, 0, headerEnd).Split("\r\n");
        if (lines[0].Split(' ') is not [_, "101", ..]) throw new WebSocketException($"the server refused the upgrade: {lines[0]}");
        string expected = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + AcceptGuid)));
        string? accept = lines.Skip(1).Select(l => l.Split(':', 2)).Where(p => p.Length == 2 && p[0].Trim().Equals("Sec-WebSocket-Accept", StringComparison.OrdinalIgnoreCase))
            .Select(p => p[1].Trim()).FirstOrDefault();
        if (accept != expected) throw new WebSocketException("the server's Sec-WebSocket-Accept does not match the key");
        _start = headerEnd + 4; // the server may have sent its first frame right behind the headers
    }

    /// <summary>
    /// The next complete text message's length; its bytes are <see cref="Message"/> until the next call. Pings are
    /// answered, pongs skipped; a close frame throws <see cref="WebSocketException"/>.
    /// </summary>
    public async ValueTask<int> ReceiveAsync(CancellationToken ct)
    {
        int assembled = 0;
        while (true)
        {
            if (TryTakeFrame(out bool fin, out int opcode, out int offset, out int length))
            {
                switch (opcode)
                {
                    case 0x1 or 0x0: // text, or a continuation of one
                        if (assembled + length > MaxMessageBytes) throw new WebSocketException($"a message over {MaxMessageBytes} bytes");
                        if (assembled + length > _message.Length) Array.Resize(ref _message, Math.Max(_message.Length * 2, assembled + length));
                        _in.AsSpan(offset, length).CopyTo(_message.AsSpan(assembled));
                        assembled += length;
                        if (fin) return assembled;
                        break;
                    case 0x2:
                        throw new WebSocketException("the server sent a binary message");
                    case 0x8:
                        int code = length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(_in.AsSpan(offset)) : 1005;
                        string reason = length > 2 ? Encoding.UTF8.GetString(_in, offset + 2, length - 2) : "";
                        throw new WebSocketException($"closed by server: {code} {reason}");
                    case 0x9:
                        byte[] payload = _in.AsSpan(offset, length).ToArray();
                        await SendFrameAsync(0xA, payload, ct);
                        break;
                    case 0xA:
                        break; // unsolicited keep-alive pong
                    default:
                        throw new WebSocketException($"unknown opcode {opcode}");
                }
                continue;
            }
            await ReceiveMoreAsync(ct);
        }
    }

    /// <summary>The message <see cref="ReceiveAsync"/> returned last.</summary>
    public ReadOnlySpan<byte> Message(int length) => _message.AsSpan(0, length);

    /// <summary>Parses one whole frame at <see cref="_start"/> if it is all there (server frames are never masked).</summary>
    private bool TryTakeFrame(out bool fin, out int opcode, out int offset, out int length)
    {
        fin = false; opcode = 0; offset = 0; length = 0;
        int available = _end - _start;
        if (available < 2) return false;
        byte b0 = _in[_start], b1 = _in[_start + 1];
        if ((b1 & 0x80) != 0) throw new WebSocketException("the server sent a masked frame");
        if ((b0 & 0x70) != 0) throw new WebSocketException("the server set reserved bits (no extension was negotiated)");
        int header = 2;
        long len = b1 & 0x7F;
        if (len == 126)
        {
            if (available < 4) return false;
            len = BinaryPrimitives.ReadUInt16BigEndian(_in.AsSpan(_start + 2));
            header = 4;
        }
        else if (len == 127)
        {
            if (available < 10) return false;
            len = BinaryPrimitives.ReadInt64BigEndian(_in.AsSpan(_start + 2));
            header = 10;
        }
        if (len > MaxMessageBytes || len < 0) throw new WebSocketException($"a frame over {MaxMessageBytes} bytes");
        if (header + len > _in.Length)
        {
            // A frame larger than the buffer: grow it (keeping what is there) and read on.
            var bigger = new byte[header + (int)len];
            _in.AsSpan(_start, available).CopyTo(bigger);
            _in = bigger;
            _end = available;
            _start = 0;
            return false;
        }
        if (available < header + len) return false;
        fin = (b0 & 0x80) != 0;
        opcode = b0 & 0x0F;
        offset = _start + header;
        length = (int)len;
        _start += header + (int)len;
        return true;
    }

    private async ValueTask ReceiveMoreAsync(CancellationToken ct)
    {
        if (_start == _end) _start = _end = 0;
        else if (_end == _in.Length)
        {
            // Move the unparsed tail to the front to make room.
            _in.AsSpan(_start, _end - _start).CopyTo(_in);
            _end -= _start;
            _start = 0;
        }
        int n;
        try
        {
            n = await _socket.ReceiveAsync(_in.AsMemory(_end), SocketFlags.None, ct);
        }
        catch (SocketException ex)
        {
            throw new IOException("the connection failed: " + ex.Message, ex);
        }
        if (n == 0) throw new WebSocketException("the server closed the connection without a close frame");
        _end += n;
    }

    /// <summary>Sends <paramref name="payload"/> as one masked text message.</summary>
    public ValueTask SendTextAsync(ReadOnlyMemory<byte> payload, CancellationToken ct) => SendFrameAsync(0x1, payload, ct);

    private async ValueTask SendFrameAsync(int opcode, ReadOnlyMemory<byte> payload, CancellationToken ct)
    {
        await _sendLock.WaitAsync(ct);
        try
        {
            int length = payload.Length;
            int header = length < 126 ? 2 : length <= ushort.MaxValue ? 4 : 10;
            int total = header + 4 + length;
            if (_out.Length < total) _out = new byte[Math.Max(total, _out.Length * 2)];
            var frame = _out.AsSpan(0, total);
            frame[0] = (byte)(0x80 | opcode);
            if (header == 2) frame[1] = (byte)(0x80 | length);
            else if (header == 4)
            {
                frame[1] = 0x80 | 126;
                BinaryPrimitives.WriteUInt16BigEndian(frame[2..], (ushort)length);
            }
            else
            {
                frame[1] = 0x80 | 127;
                BinaryPrimitives.WriteInt64BigEndian(frame[2..], length);
            }
            var mask = frame.Slice(header, 4);
            _masks.NextBytes(mask); // client frames are masked with a fresh key (RFC 6455 §5.3)
            var body = frame[(header + 4)..];
            payload.Span.CopyTo(body);
            for (int i = 0; i < body.Length; i++) body[i] ^= mask[i & 3];
            await SendAllAsync(_out.AsMemory(0, total), ct);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async ValueTask SendAllAsync(ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        try
        {
            while (!data.IsEmpty)
            {
                int n = await _socket.SendAsync(data, SocketFlags.None, ct);
                data = data[n..];
            }
        }
        catch (SocketException ex)
        {
            throw new IOException("the connection failed: " + ex.Message, ex);
        }
    }

    /// <summary>Drops the connection: a pending receive or send fails at once.</summary>
    public void Abort()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0) return;
        _socket.Dispose();
    }

    /// <summary>Close handshake (code 1000), waiting up to 2 s for the server's close frame, then the socket is closed.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Volatile.Read(ref _closed) == 0)
        {
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                var close = new byte[2];
                BinaryPrimitives.WriteUInt16BigEndian(close, 1000);
                await SendFrameAsync(0x8, close, cts.Token);
                while (true) await ReceiveAsync(cts.Token); // ends with the server's close frame (an exception)
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
            {
                // Closed, or the server did not answer in time: the socket goes either way.
            }
        }
        Abort();
        _sendLock.Dispose();
    }
}
