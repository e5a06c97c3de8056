using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace MoltBot.Security.Admin;

/// <summary>
/// Counts failed authentications per client IP in a fixed window (Security:AuthLimit); over the limit the IP gets
/// 429 until the window ends, which makes guessing keys (and burning CPU on PBKDF2) pointless.
/// </summary>
public sealed class FailedAuthLimiter(IOptions<SecurityOptions> options, TimeProvider clock)
{
    private readonly ConcurrentDictionary<string, Window> _windows = new(StringComparer.Ordinal);

    /// <summary>Seconds until the IP may try again, or 0 when it is not blocked.</summary>
    public int RetryAfterSeconds(string ip)
    {
        var o = options.Value.AuthLimit;
        if (!_windows.TryGetValue(ip, out var w)) return 0;
        var now = clock.GetUtcNow();
        var end = w.Start.AddSeconds(o.WindowSeconds);
        if (now >= end || w.Failures < o.MaxFailures) return 0;
        return Math.Max(1, (int)Math.Ceiling((end - now).TotalSeconds));
    }

    public void RecordFailure(string ip)
    {
        var o = options.Value.AuthLimit;
        var now = clock.GetUtcNow();
        if (_windows.Count > 100_000) Prune(now, o.WindowSeconds);
        _windows.AddOrUpdate(ip, _ => new Window(now, 1),
            (_, w) => now >= w.Start.AddSeconds(o.WindowSeconds) ? new Window(now, 1) : w with { Failures = w.Failures + 1 });
    }

    private void Prune(DateTimeOffset now, int windowSeconds)
    {
        foreach (var (ip, w) in _windows)
        {
            if (now >= w.Start.AddSeconds(windowSeconds)) _windows.TryRemove(ip, out _);
        }
    }

    private sealed record Window(DateTimeOffset Start, int Failures);
}
