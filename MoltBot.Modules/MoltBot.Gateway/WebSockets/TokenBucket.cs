namespace MoltBot.Gateway.WebSockets;

/// <summary>Per-connection frame rate limit: <c>burst</c> frames at once, refilled at <c>ratePerSecond</c>. Not thread-safe (one receive loop).</summary>
internal sealed class TokenBucket(double ratePerSecond, int burst, TimeProvider clock)
{
    private double _tokens = burst;
    private long _last = clock.GetTimestamp();

    public bool TryTake()
    {
        long now = clock.GetTimestamp();
        _tokens = Math.Min(burst, _tokens + clock.GetElapsedTime(_last, now).TotalSeconds * ratePerSecond);
        _last = now;
        if (_tokens < 1) return false;
        _tokens -= 1;
        return true;
    }

    /// <summary>Milliseconds until one frame is allowed again.</summary>
    public int RetryAfterMs => (int)Math.Ceiling(Math.Max(0, 1 - _tokens) / ratePerSecond * 1000);
}
