namespace MoltBot.Gateway;

/// <summary>
/// Ids of the messages the gateway accepts: "gw_" + 24 lowercase hex digits, as before, but time-ordered — 16 digits
/// of a strictly increasing value (Unix milliseconds × 4096, plus one per id issued within the same millisecond-step)
/// and 8 random digits. The message id is LiteDB's primary key of "messages": ordered ids append at the end of its
/// index (the same few pages every commit) where random ids landed on a random index page each, and each page a
/// transaction touches is copied, written to LiteDB's log and later checkpointed (docs/performance.md, session "skill3").
/// The random digits come from <see cref="Random.Shared"/>: an id is not a secret (nothing is looked up or authorized by
/// it, and its uniqueness comes from the increasing part), and the secure generator went through OpenSSL's DRBG (an
/// AES-CTR block, locks and a getpid call) for every accepted message (docs/performance.md, session "hops9").
/// </summary>
public sealed class MessageIdGenerator(TimeProvider clock)
{
    private long _last;

    public string Next()
    {
        long candidate = clock.GetUtcNow().ToUnixTimeMilliseconds() << 12;
        long value;
        long last = Volatile.Read(ref _last);
        while (true)
        {
            value = Math.Max(candidate, last + 1);
            long seen = Interlocked.CompareExchange(ref _last, value, last);
            if (seen == last) break;
            last = seen;
        }
        uint random = (uint)Random.Shared.NextInt64(0, 1L << 32);
        return string.Create(27, (value, r: random), static (span, s) =>
        {
            "gw_".CopyTo(span);
            s.value.TryFormat(span[3..], out _, "x16", System.Globalization.CultureInfo.InvariantCulture);
            s.r.TryFormat(span[19..], out _, "x8", System.Globalization.CultureInfo.InvariantCulture);
        });
    }
}
