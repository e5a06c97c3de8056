using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using LiteDB;

namespace MoltBot.Memory.Storage;

/// <summary>
/// The primary key of "messages": conversation first, then message id, as bytes. One skip-list index serves both the
/// duplicate check (a redelivered message has the same conversation and id) and a conversation's messages (one key
/// range), so inserts no longer pay for a second index on the conversation (docs/performance.md, session "skill6").
/// Binary keys compare byte by byte: the database's culture collation (ICU, ignore case) never applies to them, so a
/// conversation's range holds exactly its keys.
/// Layout: conversation part = 2-byte big-endian length + UTF-8 (or 0xFFFF + SHA-256 when longer than
/// <see cref="MaxConversationBytes"/>), then the id part = 0x00 + UTF-8 (or 0x01 + SHA-256 when the key would exceed
/// LiteDB's index-key limit). The conversation parts are prefix-free (a length, or the marker no length reaches), so
/// another conversation's key never falls inside a range.
/// </summary>
public static class MessageKey
{
    /// <summary>A conversation key longer than this (UTF-8 bytes) is hashed in the message key.</summary>
    public const int MaxConversationBytes = 512;

    /// <summary>Keys stay below LiteDB 5's 1023-byte index-key limit (with room for its own type byte and length).</summary>
    public const int MaxKeyBytes = 1000;

    private const byte LiteralId = 0x00, HashedId = 0x01;
    private const ushort HashedConversation = 0xFFFF;

    public static byte[] For(string conversationKey, string messageId)
    {
        int convBytes = Encoding.UTF8.GetByteCount(conversationKey);
        bool hashConv = convBytes > MaxConversationBytes;
        int prefix = 2 + (hashConv ? SHA256.HashSizeInBytes : convBytes);
        int idBytes = Encoding.UTF8.GetByteCount(messageId);
        bool hashId = prefix + 1 + idBytes > MaxKeyBytes;
        var key = new byte[prefix + 1 + (hashId ? SHA256.HashSizeInBytes : idBytes)];
        WriteConversation(key, conversationKey, hashConv, convBytes);
        key[prefix] = hashId ? HashedId : LiteralId;
        if (hashId) SHA256.HashData(Encoding.UTF8.GetBytes(messageId), key.AsSpan(prefix + 1));
        else Encoding.UTF8.GetBytes(messageId, key.AsSpan(prefix + 1));
        return key;
    }

    /// <summary>
    /// The smallest and largest possible key of the conversation's messages (both inclusive, for LiteDB's BETWEEN):
    /// every key of the conversation is its prefix + 0x00 or 0x01 + bytes, so it lies between prefix + 0x00 and prefix + 0xFF.
    /// </summary>
    public static (byte[] Lowest, byte[] Highest) RangeOf(string conversationKey)
    {
        int convBytes = Encoding.UTF8.GetByteCount(conversationKey);
        bool hashConv = convBytes > MaxConversationBytes;
        int prefix = 2 + (hashConv ? SHA256.HashSizeInBytes : convBytes);
        var low = new byte[prefix + 1];
        WriteConversation(low, conversationKey, hashConv, convBytes);
        var high = (byte[])low.Clone();
        low[prefix] = 0x00;
        high[prefix] = 0xFF;
        return (low, high);
    }

    /// <summary>
    /// The query for a conversation's messages: one range of the primary key's index. The bounds are parameters:
    /// LiteDB compiles an expression once per distinct text and keeps it for the process (Query.Between writes the
    /// values into the text, which compiled a dynamic method per conversation and never let it go).
    /// </summary>
    public static BsonExpression InConversation(string conversationKey)
    {
        var (low, high) = RangeOf(conversationKey);
        return BsonExpression.Create("_id BETWEEN @0 AND @1", low, high);
    }

    private static void WriteConversation(Span<byte> key, string conversationKey, bool hash, int convBytes)
    {
        if (hash)
        {
            BinaryPrimitives.WriteUInt16BigEndian(key, HashedConversation);
            SHA256.HashData(Encoding.UTF8.GetBytes(conversationKey), key[2..]);
        }
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(key, (ushort)convBytes);
            Encoding.UTF8.GetBytes(conversationKey, key[2..]);
        }
    }
}
