using MoltBot.Contracts.Skills;

namespace MoltBot.Skills.Dispatch;

/// <summary>
/// A registered skill with its budget: timeout, a concurrency gate, prepared triggers. When a plugin is reloaded the
/// old entry is retired; it releases its resources (gate, owned clients, the plugin's load context) once its last
/// in-flight run has finished, so a run is never pulled from under a skill.
/// </summary>
internal sealed class SkillEntry
{
    private readonly SemaphoreSlim _gate;
    private readonly IReadOnlyList<IDisposable> _owned;
    private readonly Action? _onRetired;
    private readonly bool _ownsSkill;
    private int _inFlight;
    private int _retired;
    private int _released;

    public SkillEntry(ISkill skill, SkillManifest manifest, string origin, TimeSpan timeout, int maxConcurrency,
        IReadOnlyList<IDisposable>? owned = null, Action? onRetired = null, bool ownsSkill = true)
    {
        _ownsSkill = ownsSkill;
        Skill = skill;
        Manifest = manifest;
        Origin = origin;
        Timeout = timeout;
        MaxConcurrency = maxConcurrency;
        Triggers = new SkillTriggerMatcher(manifest.Triggers);
        _gate = new SemaphoreSlim(maxConcurrency, maxConcurrency);
        _owned = owned ?? [];
        _onRetired = onRetired;
    }

    public ISkill Skill { get; }
    public SkillManifest Manifest { get; }
    public string Id => Manifest.Id;

    /// <summary>"built-in" or the plugin folder.</summary>
    public string Origin { get; }
    public TimeSpan Timeout { get; }
    public int MaxConcurrency { get; }

    /// <summary>
    /// Started on the caller's thread instead of a thread-pool hop: only for built-in skills that compute their answer
    /// in memory (no I/O, no locks, microseconds), which cannot block the caller. Budget and slot apply the same.
    /// </summary>
    public bool RunsInline { get; init; }
    public SkillTriggerMatcher Triggers { get; }
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Counts a caller in; false when the entry was already retired (the caller looks the skill up again).</summary>
    public bool TryEnter()
    {
        Interlocked.Increment(ref _inFlight);
        if (Volatile.Read(ref _retired) == 1)
        {
            Leave();
            return false;
        }
        return true;
    }

    /// <summary>Waits for a free slot, at most <paramref name="wait"/>.</summary>
    public Task<bool> AcquireAsync(TimeSpan wait, CancellationToken cancellationToken) => _gate.WaitAsync(wait, cancellationToken);

    public void ReleaseSlot() => _gate.Release();

    public void Leave()
    {
        if (Interlocked.Decrement(ref _inFlight) == 0 && Volatile.Read(ref _retired) == 1) ReleaseResources();
    }

    public void Retire()
    {
        if (Interlocked.Exchange(ref _retired, 1) == 1) return;
        if (Volatile.Read(ref _inFlight) == 0) ReleaseResources();
    }

    private void ReleaseResources()
    {
        if (Interlocked.Exchange(ref _released, 1) == 1) return;
        if (_ownsSkill && Skill is IDisposable d)
        {
            try { d.Dispose(); } catch (Exception) { /* a plugin's Dispose must not break the reload */ }
        }
        foreach (var o in _owned) o.Dispose();
        _gate.Dispose();
        _onRetired?.Invoke();
    }
}
