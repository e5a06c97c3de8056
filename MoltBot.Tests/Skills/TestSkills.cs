using MoltBot.Contracts.Skills;

namespace MoltBot.Tests.Skills;

/// <summary>Host-registered skills used to exercise the dispatcher: one that throws, one that hangs, one that needs a slot.</summary>
public sealed class ThrowingSkill : ISkill
{
    public SkillManifest Manifest { get; } = new() { Id = "boom", Triggers = new SkillTriggers { Keywords = ["explode"] } };

    public Task<SkillResult> ExecuteAsync(SkillContext context, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("the boom skill always fails");
}

/// <summary>Blocks its thread and ignores cancellation: the worst a plugin can do short of crashing the process.</summary>
public sealed class HangingSkill : ISkill, IDisposable
{
    private readonly ManualResetEventSlim _release = new(false);
    private int _started;

    public SkillManifest Manifest { get; } = new() { Id = "hang", Triggers = new SkillTriggers { Keywords = ["freeze"] } };

    public int Started => Volatile.Read(ref _started);

    public Task<SkillResult> ExecuteAsync(SkillContext context, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _started);
        _release.Wait(TimeSpan.FromMinutes(2));
        return Task.FromResult(SkillResult.Say("finally"));
    }

    public void Release() => _release.Set();

    public void Dispose() => _release.Dispose();
}

/// <summary>Needs the "datetime" slot; echoes the slot value it received.</summary>
public sealed class BookingSkill : ISkill
{
    public SkillManifest Manifest { get; } = new()
    {
        Id = "booking",
        Triggers = new SkillTriggers { Keywords = ["book a table", "订座"] },
        RequiredSlots =
        [
            new SlotRequirement("datetime", new Dictionary<string, string> { ["en"] = "For when?", ["zh"] = "订什么时候的？" }),
        ],
    };

    public Task<SkillResult> ExecuteAsync(SkillContext context, CancellationToken cancellationToken) =>
        Task.FromResult(SkillResult.Say("booked for " + context.Slots["datetime"]));
}
