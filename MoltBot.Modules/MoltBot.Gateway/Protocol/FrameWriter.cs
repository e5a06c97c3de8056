using System.Buffers;
using System.Text.Json;

namespace MoltBot.Gateway.Protocol;

/// <summary>Builds server frames as UTF-8 JSON: {"type": ..., "seq": n (after the session is established), ...}.</summary>
internal static class FrameWriter
{
    private static readonly JsonWriterOptions Options = new() { Indented = false };

    // Every frame (two per message on the skill path) used to allocate a buffer writer, its 256-byte array and a JSON
    // writer before the frame's own array; each thread now keeps one of each and only the frame is allocated.
    [ThreadStatic] private static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] private static Utf8JsonWriter? t_writer;
    [ThreadStatic] private static bool t_busy;
    // A buffer grown past this by a large frame (history) is not kept for the next one.
    private const int KeptBufferBytes = 16 * 1024;

    public static byte[] Build(string type, long? seq, Action<Utf8JsonWriter>? body)
    {
        // A body that builds another frame while this one is being written gets its own writer.
        if (t_busy) return BuildWith(new ArrayBufferWriter<byte>(256), null, type, seq, body);
        t_busy = true;
        try
        {
            var buffer = t_buffer ??= new ArrayBufferWriter<byte>(256);
            buffer.ResetWrittenCount();
            var writer = t_writer;
            if (writer is null) t_writer = writer = new Utf8JsonWriter(buffer, Options);
            else writer.Reset(buffer);
            byte[] frame = BuildWith(buffer, writer, type, seq, body);
            if (buffer.Capacity > KeptBufferBytes)
            {
                t_buffer = null;
                t_writer = null;
            }
            return frame;
        }
        catch
        {
            // A body that threw left the writer mid-object: start the next frame with fresh ones.
            t_buffer = null;
            t_writer = null;
            throw;
        }
        finally
        {
            t_busy = false;
        }
    }

    private static byte[] BuildWith(ArrayBufferWriter<byte> buffer, Utf8JsonWriter? reused, string type, long? seq, Action<Utf8JsonWriter>? body)
    {
        var w = reused ?? new Utf8JsonWriter(buffer, Options);
        try
        {
            w.WriteStartObject();
            w.WriteString("type", type);
            if (seq is { } s) w.WriteNumber("seq", s);
            body?.Invoke(w);
            w.WriteEndObject();
            w.Flush();
        }
        finally
        {
            if (reused is null) w.Dispose();
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
