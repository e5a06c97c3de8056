using System.Text;

namespace MoltBot.Contracts.Messaging;

/// <summary>
/// Stable hash used to place a user on a shard worker. FNV-1a over UTF-8: the same on every run and machine
/// (string.GetHashCode is randomized per process, so it cannot be used here).
/// </summary>
public static class ShardHash
{
    public static string Key(string platform, string userId) => platform + ":" + userId;

    public static ulong Fnv1a64(string key)
    {
        const ulong offset = 14695981039346656037UL;
        const ulong prime = 1099511628211UL;
        ulong hash = offset;
        Span<byte> buffer = stackalloc byte[256];
        int max = Encoding.UTF8.GetMaxByteCount(key.Length);
        byte[]? rented = null;
        Span<byte> bytes = max <= buffer.Length ? buffer : (rented = new byte[max]);
        int n = Encoding.UTF8.GetBytes(key, bytes);
        for (int i = 0; i < n; i++)
        {
            hash ^= bytes[i];
            hash *= prime;
        }
        return hash;
    }

    /// <summary>Shard index in [0, shardCount).</summary>
    public static int ShardOf(string shardKey, int shardCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shardCount, 1);
        return (int)(Fnv1a64(shardKey) % (ulong)shardCount);
    }
}
