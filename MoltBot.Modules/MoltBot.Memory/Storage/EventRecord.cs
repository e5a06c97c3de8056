using System.Buffers.Binary;
using System.Text;

namespace MoltBot.Memory.Storage;

/// <summary>
/// One event as stored in the event-log segments. <see cref="Ref"/> is the message id for message events (the
/// short-term rebuild and the start-up replay into LiteDB de-duplicate by it). <see cref="Vector"/> is the normalized
/// embedding of a user message indexed for vector recall, so the replay can restore it without the encoder.
/// </summary>
public sealed record EventRecord(long Ts, string Conv, string User, string Kind, string? Text, string? Data, string? Ref, float[]? Vector = null)
{
    public bool IsMessage => Kind is Contracts.Memory.EventKinds.MessageIn or Contracts.Memory.EventKinds.MessageOut;

    // Binary layout (little endian): ts i64, flags u8 (1 text, 2 data, 4 ref, 8 vector), then strings as
    // u32 byte length + UTF-8: conv, user, kind, [text], [data], [ref], then [vector: u32 count + f32 each].
    private const byte HasText = 1, HasData = 2, HasRef = 4, HasVector = 8;

    /// <summary>The encoded bytes (done on the appending thread, so the single writer only copies them).</summary>
    public byte[] Encode()
    {
        var bytes = new byte[EncodedLength()];
        Encode(bytes);
        return bytes;
    }

    public int EncodedLength()
    {
        int n = 8 + 1 + Len(Conv) + Len(User) + Len(Kind);
        if (Text is not null) n += Len(Text);
        if (Data is not null) n += Len(Data);
        if (Ref is not null) n += Len(Ref);
        if (Vector is not null) n += 4 + 4 * Vector.Length;
        return n;

        static int Len(string s) => 4 + Encoding.UTF8.GetByteCount(s);
    }

    /// <summary>Writes the record into <paramref name="target"/>, which must be exactly <see cref="EncodedLength"/> bytes.</summary>
    public void Encode(Span<byte> target)
    {
        BinaryPrimitives.WriteInt64LittleEndian(target, Ts);
        target[8] = (byte)((Text is null ? 0 : HasText) | (Data is null ? 0 : HasData) | (Ref is null ? 0 : HasRef) | (Vector is null ? 0 : HasVector));
        int at = 9;
        Put(target, ref at, Conv);
        Put(target, ref at, User);
        Put(target, ref at, Kind);
        if (Text is not null) Put(target, ref at, Text);
        if (Data is not null) Put(target, ref at, Data);
        if (Ref is not null) Put(target, ref at, Ref);
        if (Vector is not null)
        {
            BinaryPrimitives.WriteInt32LittleEndian(target[at..], Vector.Length);
            at += 4;
            foreach (float f in Vector)
            {
                BinaryPrimitives.WriteSingleLittleEndian(target[at..], f);
                at += 4;
            }
        }
        if (at != target.Length) throw new InvalidOperationException("Event record length mismatch.");

        static void Put(Span<byte> t, ref int at, string s)
        {
            int n = Encoding.UTF8.GetBytes(s, t[(at + 4)..]);
            BinaryPrimitives.WriteInt32LittleEndian(t[at..], n);
            at += 4 + n;
        }
    }

    /// <summary>Reads a record; throws <see cref="InvalidDataException"/> when the bytes are not one.</summary>
    public static EventRecord Decode(ReadOnlySpan<byte> source)
    {
        if (source.Length < 9) throw new InvalidDataException("event record too short");
        long ts = BinaryPrimitives.ReadInt64LittleEndian(source);
        byte flags = source[8];
        int at = 9;
        string conv = Get(source, ref at), user = Get(source, ref at), kind = Get(source, ref at);
        string? text = (flags & HasText) != 0 ? Get(source, ref at) : null;
        string? data = (flags & HasData) != 0 ? Get(source, ref at) : null;
        string? reference = (flags & HasRef) != 0 ? Get(source, ref at) : null;
        float[]? vector = null;
        if ((flags & HasVector) != 0)
        {
            if (at + 4 > source.Length) throw new InvalidDataException("event record vector truncated");
            int n = BinaryPrimitives.ReadInt32LittleEndian(source[at..]);
            at += 4;
            if (n < 0 || n > (source.Length - at) / 4) throw new InvalidDataException("event record vector out of range");
            vector = new float[n];
            for (int i = 0; i < n; i++, at += 4) vector[i] = BinaryPrimitives.ReadSingleLittleEndian(source[at..]);
        }
        if (at != source.Length) throw new InvalidDataException("event record has trailing bytes");
        return new EventRecord(ts, conv, user, kind, text, data, reference, vector);

        static string Get(ReadOnlySpan<byte> s, ref int at)
        {
            if (at + 4 > s.Length) throw new InvalidDataException("event record truncated");
            int n = BinaryPrimitives.ReadInt32LittleEndian(s[at..]);
            if (n < 0 || at + 4 + n > s.Length) throw new InvalidDataException("event record string out of range");
            string value = Encoding.UTF8.GetString(s.Slice(at + 4, n));
            at += 4 + n;
            return value;
        }
    }
}
