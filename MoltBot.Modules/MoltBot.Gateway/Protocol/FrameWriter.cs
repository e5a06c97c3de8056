using System.Buffers;
using System.Text.Json;

namespace MoltBot.Gateway.Protocol;

/// <summary>Builds server frames as UTF-8 JSON: {"type": ..., "seq": n (after the session is established), ...}.</summary>
internal static class FrameWriter
{
    private static readonly JsonWriterOptions Options = new() { Indented = false };

    public static byte[] Build(string type, long? seq, Action<Utf8JsonWriter>? body)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, Options))
        {
            w.WriteStartObject();
            w.WriteString("type", type);
            if (seq is { } s) w.WriteNumber("seq", s);
            body?.Invoke(w);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    public static Action<Utf8JsonWriter> Error(string code, string message, string? id = null, int? retryAfterMs = null) => w =>
    {
        w.WriteString("code", code);
        w.WriteString("message", message);
        if (id is not null) w.WriteString("id", id);
        if (retryAfterMs is { } r) w.WriteNumber("retryAfterMs", r);
    };
}
