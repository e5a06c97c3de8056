using System.Buffers;
using System.Net.WebSockets;
using System.Text;

namespace MoltBot.Channels.Common;

/// <summary>
/// A client WebSocket carrying JSON text frames: one send at a time (the socket allows no concurrent sends),
/// whole-message receive with a size cap, WebSocket PING keep-alive with a 5 s PONG timeout, and quiet closing.
/// </summary>
internal sealed class JsonWebSocket : IAsyncDisposable
{
    public const int MaxMessageBytes = 4 * 1024 * 1024;
    private readonly ClientWebSocket _ws = new();
    private readonly SemaphoreSlim _sendGate = new(1, 1);

    private JsonWebSocket(TimeSpan keepAlive)
    {
        _ws.Options.KeepAliveInterval = keepAlive;
        _ws.Options.KeepAliveTimeout = TimeSpan.FromSeconds(5);
    }

    public WebSocketState State => _ws.State;

    public static async Task<JsonWebSocket> ConnectAsync(Uri url, TimeSpan keepAlive, CancellationToken cancellationToken)
    {
        var socket = new JsonWebSocket(keepAlive);
        try
        {
            await socket._ws.ConnectAsync(url, cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            await socket.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async Task SendAsync(string json, CancellationToken cancellationToken)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(json);
        await _sendGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _ws.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _sendGate.Release();
        }
    }

    /// <summary>The next text message, or null when the peer closed the socket.</summary>
    public async Task<string?> ReceiveAsync(CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            using var message = new MemoryStream();
            while (true)
            {
                var result = await _ws.ReceiveAsync(buffer.AsMemory(), cancellationToken).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close) return null;
                message.Write(buffer, 0, result.Count);
                if (message.Length > MaxMessageBytes)
                {
                    await CloseAsync(WebSocketCloseStatus.MessageTooBig, "message too big").ConfigureAwait(false);
                    throw new InvalidDataException($"WebSocket message larger than {MaxMessageBytes} bytes.");
                }
                if (result.EndOfMessage) return Encoding.UTF8.GetString(message.GetBuffer(), 0, (int)message.Length);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public int? CloseStatus => (int?)_ws.CloseStatus;

    /// <summary>Closes without throwing (the socket may already be dead).</summary>
    public async Task CloseAsync(WebSocketCloseStatus status, string reason)
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            if (_ws.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await _ws.CloseOutputAsync(status, reason, cts.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        _ws.Abort();
    }

    public ValueTask DisposeAsync()
    {
        _ws.Dispose();
        _sendGate.Dispose();
        return ValueTask.CompletedTask;
    }
}
