namespace MoltBot.DevTools;

/// <summary>A clock replay sets to each recorded message's time, so time-dependent answers repeat exactly.</summary>
public sealed class ReplayClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Set(DateTimeOffset now) => _now = now;
}
