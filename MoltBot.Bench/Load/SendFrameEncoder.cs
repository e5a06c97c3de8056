using System.Text;
using System.Text.Json;

namespace MoltBot.Bench.Load;

/// <summary>
/// One user's `send` frames, {"type":"send","id":"PREFIX-N","text":TEXT}, encoded once up to the message number and
/// finished per message by writing N's digits into a reusable buffer: no JSON writer, no allocation per message.
/// </summary>
public sealed class SendFrameEncoder
{
    private readonly byte[] _buffer;
    private readonly int _digitsAt;
    private readonly byte[] _tail;

    /// <param name="idPrefix">The client id before the message number, e.g. "7-" (must need no JSON escaping).</param>
    public SendFrameEncoder(string idPrefix, string text)
    {
        if (JsonEncodedText.Encode(idPrefix).Value != idPrefix) throw new ArgumentException("the id prefix must need no JSON escaping", nameof(idPrefix));
        byte[] head = Encoding.UTF8.GetBytes("{\"type\":\"send\",\"id\":\"" + idPrefix);
        // The text through the serializer once, so any text a scenario sends is escaped exactly as JSON wants.
        _tail = Encoding.UTF8.GetBytes("\",\"text\":" + JsonSerializer.Serialize(text) + "}");
        _digitsAt = head.Length;
        _buffer = new byte[head.Length + 10 + _tail.Length];
        head.CopyTo(_buffer, 0);
    }

    /// <summary>The frame for message <paramref name="n"/>; valid until the next call.</summary>
    public ReadOnlyMemory<byte> Frame(int n)
    {
        if (!n.TryFormat(_buffer.AsSpan(_digitsAt), out int digits, default, System.Globalization.CultureInfo.InvariantCulture))
            throw new InvalidOperationException("message number does not fit");
        _tail.CopyTo(_buffer, _digitsAt + digits);
        return _buffer.AsMemory(0, _digitsAt + digits + _tail.Length);
    }
}
