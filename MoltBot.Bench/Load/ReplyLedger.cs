using System.Buffers.Text;

namespace MoltBot.Bench.Load;

/// <summary>
/// One simulated user's books: when each of its messages was due, when its first reply.final came and how many came.
/// Ids are "PREFIX" + message number, so a reply is matched to its request by parsing the number back: arrays instead
/// of dictionaries, and latencies are kept as raw timestamps and put into the histogram once the run is over.
/// </summary>
public sealed class ReplyLedger
{
    private readonly byte[] _prefix;
    private readonly long[] _due;
    private readonly long[] _answeredAt;
    private readonly int[] _finals;

    public ReplyLedger(string idPrefix, int messages)
    {
        IdPrefix = idPrefix;
        _prefix = System.Text.Encoding.UTF8.GetBytes(idPrefix);
        _due = new long[messages];
        _answeredAt = new long[messages];
        _finals = new int[messages];
    }

    public string IdPrefix { get; }
    public int Messages => _due.Length;
    /// <summary>Messages handed to the socket.</summary>
    public int Sent { get; private set; }
    /// <summary>Messages with at least one reply.final.</summary>
    public int Answered { get; private set; }
    /// <summary>Messages with more than one reply.final.</summary>
    public int Duplicated { get; private set; }
    /// <summary>reply.final frames whose replyTo is none of this user's sent ids.</summary>
    public int Unmatched { get; private set; }

    /// <summary>Message <paramref name="n"/> was due at <paramref name="timestamp"/> (Stopwatch ticks) and is being sent.</summary>
    public void MarkSent(int n, long timestamp)
    {
        _due[n] = timestamp;
        Sent = Math.Max(Sent, n + 1);
    }

    /// <summary>
    /// Books a reply.final. Returns the message number when it is the first reply to one of this user's sent messages,
    /// -1 otherwise (a duplicate, or an id this user never sent: both counted).
    /// </summary>
    public int RecordFinal(ReadOnlySpan<byte> replyTo, long timestamp)
    {
        int n = Parse(replyTo);
        if (n < 0 || n >= Sent)
        {
            Unmatched++;
            return -1;
        }
        int count = ++_finals[n];
        if (count == 1)
        {
            _answeredAt[n] = timestamp;
            Answered++;
            return n;
        }
        if (count == 2) Duplicated++;
        return -1;
    }

    /// <summary>Latency of every answered message in microseconds, from when it was due.</summary>
    public IEnumerable<long> LatenciesMicroseconds()
    {
        for (int n = 0; n < _due.Length; n++)
        {
            if (_finals[n] > 0) yield return Math.Max(1, (_answeredAt[n] - _due[n]) * 1_000_000 / System.Diagnostics.Stopwatch.Frequency);
        }
    }

    private int Parse(ReadOnlySpan<byte> replyTo)
    {
        if (!replyTo.StartsWith(_prefix)) return -1;
        var digits = replyTo[_prefix.Length..];
        return digits.Length > 0 && digits[0] is >= (byte)'0' and <= (byte)'9'
            && Utf8Parser.TryParse(digits, out int n, out int used) && used == digits.Length
            && (digits.Length == 1 || digits[0] != (byte)'0') // "7-01" is not an id we sent
            ? n : -1;
    }
}
