using System.Buffers.Binary;
using System.Text;

namespace MoltBot.Memory.Storage;

/// <summary>
/// The index snapshot of one sealed event-log segment (NNNNNNNN.idx next to NNNNNNNN.seg): for every event its
/// conversation, time, place and kind — what the in-memory index needs — so a start reads this instead of the whole
/// segment. Layout (little endian): magic "MBIX", version, the segment's id and length, conversation table (count, then
/// u32 length + UTF-8 each), event count, then per event ts i64, offset i32, length i32, message flag u8,
/// conversation i32; last a CRC-32 of everything before it. Written to a temporary file, fsynced and renamed. A
/// snapshot that is missing, fails its checksum or describes another segment or length is ignored (the segment
/// is scanned and the snapshot written again); it is only ever a shortcut, never the data.
/// </summary>
public static class SegmentIndexFile
{
    private const uint Magic = 0x5849424D; // "MBIX"
    private const int Version = 1;
    public const string Extension = ".idx";

    public static void Write(string path, int segmentId, long segmentLength, IReadOnlyList<(string Conv, EventPointer Pointer)> entries)
    {
        var conversations = new Dictionary<string, int>(StringComparer.Ordinal);
        var table = new List<string>();
        foreach (var (conv, _) in entries)
        {
            if (conversations.TryAdd(conv, table.Count)) table.Add(conv);
        }
        int size = 4 + 4 + 4 + 8 + 4 + table.Sum(c => 4 + Encoding.UTF8.GetByteCount(c)) + 4 + entries.Count * 21 + 4;
        var buffer = new byte[size];
        var span = buffer.AsSpan();
        int at = 0;
        BinaryPrimitives.WriteUInt32LittleEndian(span[at..], Magic); at += 4;
        BinaryPrimitives.WriteInt32LittleEndian(span[at..], Version); at += 4;
        BinaryPrimitives.WriteInt32LittleEndian(span[at..], segmentId); at += 4;
        BinaryPrimitives.WriteInt64LittleEndian(span[at..], segmentLength); at += 8;
        BinaryPrimitives.WriteInt32LittleEndian(span[at..], table.Count); at += 4;
        foreach (string conv in table)
        {
            int n = Encoding.UTF8.GetBytes(conv, span[(at + 4)..]);
            BinaryPrimitives.WriteInt32LittleEndian(span[at..], n);
            at += 4 + n;
        }
        BinaryPrimitives.WriteInt32LittleEndian(span[at..], entries.Count); at += 4;
        foreach (var (conv, p) in entries)
        {
            BinaryPrimitives.WriteInt64LittleEndian(span[at..], p.Ts);
            BinaryPrimitives.WriteInt32LittleEndian(span[(at + 8)..], p.Offset);
            BinaryPrimitives.WriteInt32LittleEndian(span[(at + 12)..], p.Length);
            span[at + 16] = p.IsMessage ? (byte)1 : (byte)0;
            BinaryPrimitives.WriteInt32LittleEndian(span[(at + 17)..], conversations[conv]);
            at += 21;
        }
        BinaryPrimitives.WriteUInt32LittleEndian(span[at..], Crc32.Compute(span[..at]));
        string tmp = path + ".tmp";
        using (var file = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(buffer);
            file.Flush(flushToDisk: true);
        }
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>The entries, or null with the reason when the snapshot cannot be used for a segment of this length.</summary>
    public static List<(string Conv, EventPointer Pointer)>? TryRead(string path, int segmentId, long segmentLength, out string reason)
    {
        if (!File.Exists(path))
        {
            reason = "no snapshot";
            return null;
        }
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (IOException ex)
        {
            reason = ex.Message;
            return null;
        }
        try
        {
            var span = bytes.AsSpan();
            if (span.Length < 32) throw new InvalidDataException("too short");
            if (Crc32.Compute(span[..^4]) != BinaryPrimitives.ReadUInt32LittleEndian(span[^4..])) throw new InvalidDataException("checksum mismatch");
            if (BinaryPrimitives.ReadUInt32LittleEndian(span) != Magic || BinaryPrimitives.ReadInt32LittleEndian(span[4..]) != Version) throw new InvalidDataException("not a version-1 index snapshot");
            int describedId = BinaryPrimitives.ReadInt32LittleEndian(span[8..]);
            if (describedId != segmentId) throw new InvalidDataException($"describes segment {describedId}");
            long described = BinaryPrimitives.ReadInt64LittleEndian(span[12..]);
            if (described != segmentLength) throw new InvalidDataException($"describes {described} bytes of the segment, which has {segmentLength}");
            int at = 20;
            int tableCount = ReadCount(span, ref at);
            var table = new string[tableCount];
            for (int i = 0; i < tableCount; i++)
            {
                int n = ReadCount(span, ref at);
                if (n > span.Length - 4 - at) throw new InvalidDataException("conversation name out of range");
                table[i] = Encoding.UTF8.GetString(span.Slice(at, n));
                at += n;
            }
            int count = ReadCount(span, ref at);
            if ((long)count * 21 != span.Length - 4 - at) throw new InvalidDataException("event count does not match the size");
            var entries = new List<(string, EventPointer)>(count);
            for (int i = 0; i < count; i++, at += 21)
            {
                long ts = BinaryPrimitives.ReadInt64LittleEndian(span[at..]);
                int offset = BinaryPrimitives.ReadInt32LittleEndian(span[(at + 8)..]);
                int length = BinaryPrimitives.ReadInt32LittleEndian(span[(at + 12)..]);
                int conv = BinaryPrimitives.ReadInt32LittleEndian(span[(at + 17)..]);
                if (offset < 0 || length <= 0 || offset + (long)length > segmentLength || (uint)conv >= (uint)tableCount)
                {
                    throw new InvalidDataException($"event {i} out of range");
                }
                entries.Add((table[conv], new EventPointer(ts, segmentId, offset, length, span[at + 16] != 0)));
            }
            reason = "";
            return entries;
        }
        catch (InvalidDataException ex)
        {
            reason = ex.Message;
            return null;
        }
    }

    private static int ReadCount(ReadOnlySpan<byte> span, ref int at)
    {
        if (at + 4 > span.Length - 4) throw new InvalidDataException("truncated");
        int n = BinaryPrimitives.ReadInt32LittleEndian(span[at..]);
        if (n < 0) throw new InvalidDataException("negative count");
        at += 4;
        return n;
    }
}
