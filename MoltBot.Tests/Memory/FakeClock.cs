namespace MoltBot.Tests.Memory;

/// <summary>A settable clock (timers still run on real time).</summary>
public sealed class FakeClock(DateTimeOffset start) : TimeProvider
{
    private long _ticks = start.UtcTicks;

    public FakeClock() : this(new DateTimeOffset(2026, 11, 23, 12, 0, 0, 123, TimeSpan.Zero)) { }

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}
