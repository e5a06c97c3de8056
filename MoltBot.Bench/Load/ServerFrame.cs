using System.Text;
using System.Text.Json;

namespace MoltBot.Bench.Load;

public enum ServerFrameKind
{
    /// <summary>hello, session, ack, typing, pong, …: nothing the load generator counts.</summary>
    Other,
    /// <summary>reply.final: the answer to one client message.</summary>
    Final,
    /// <summary>error: counted; a frame that is not valid JSON is reported as this too.</summary>
    Error,
}

/// <summary>
/// Reads what the load generator needs from a server frame (docs/protocol.md) in one forward pass over its UTF-8
/// bytes: the type, and for a reply.final its `replyTo` (the client id) and `source`. No document, no strings.
/// </summary>
public readonly ref struct ServerFrame
{
    private static ReadOnlySpan<byte> TypeName => "type"u8;
    private static ReadOnlySpan<byte> ReplyToName => "replyTo"u8;
    private static ReadOnlySpan<byte> SourceName => "source"u8;

    public ServerFrameKind Kind { get; }

    /// <summary>The client id a reply.final answers, as raw JSON string bytes (empty when absent or escaped).</summary>
    public ReadOnlySpan<byte> ReplyTo { get; }

    /// <summary>The reply's source (which path answered), unescaped UTF-8 (empty when absent).</summary>
    public ReadOnlySpan<byte> Source { get; }

    private ServerFrame(ServerFrameKind kind, ReadOnlySpan<byte> replyTo, ReadOnlySpan<byte> source)
    {
        Kind = kind;
        ReplyTo = replyTo;
        Source = source;
    }

    public static ServerFrame Scan(ReadOnlySpan<byte> json)
    {
        var kind = ServerFrameKind.Other;
        ReadOnlySpan<byte> replyTo = default, source = default;
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return new(ServerFrameKind.Error, default, default);
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals(TypeName))
                {
                    reader.Read();
                    if (reader.ValueTextEquals("reply.final"u8)) kind = ServerFrameKind.Final;
                    else if (reader.ValueTextEquals("error"u8)) return new(ServerFrameKind.Error, default, default);
                    else return new(ServerFrameKind.Other, default, default); // the type comes first: nothing else to read
                }
                else if (reader.ValueTextEquals(ReplyToName))
                {
                    reader.Read();
                    // Our ids need no escaping; an escaped one cannot be ours and will not match.
                    if (reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped) replyTo = reader.ValueSpan;
                }
                else if (reader.ValueTextEquals(SourceName))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.String)
                        source = reader.ValueIsEscaped ? Encoding.UTF8.GetBytes(reader.GetString()!) : reader.ValueSpan;
                }
                else
                {
                    reader.Read();
                    reader.Skip(); // nested values (a card) are skipped whole
                }
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException) // not JSON, or a field of the wrong kind
        {
            return new(ServerFrameKind.Error, default, default);
        }
        return new(kind, replyTo, source);
    }
}
