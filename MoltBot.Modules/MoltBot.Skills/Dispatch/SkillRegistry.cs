using MoltBot.Contracts.Skills;

namespace MoltBot.Skills.Dispatch;

/// <summary>
/// The skills currently registered: built-ins first (in registration order), then plugins by id. Readers take an
/// immutable snapshot; reloads swap it atomically and retire the replaced entries.
/// </summary>
internal sealed class SkillRegistry : IDisposable
{
    private readonly object _lock = new();
    private IReadOnlyList<SkillEntry> _builtIns = [];
    private Dictionary<string, SkillEntry> _plugins = new(StringComparer.OrdinalIgnoreCase);
    private volatile SkillEntry[] _snapshot = [];

    public IReadOnlyList<SkillEntry> Entries => _snapshot;

    public IReadOnlyList<SkillManifest> Manifests => _snapshot.Select(e => e.Manifest).ToList();

    public SkillEntry? Find(string id)
    {
        foreach (var e in _snapshot)
        {
            if (string.Equals(e.Id, id, StringComparison.OrdinalIgnoreCase)) return e;
        }
        return null;
    }

    public bool IsBuiltIn(string id) => _builtIns.Any(e => string.Equals(e.Id, id, StringComparison.OrdinalIgnoreCase));

    public void SetBuiltIns(IReadOnlyList<SkillEntry> entries)
    {
        lock (_lock)
        {
            var old = _builtIns;
            _builtIns = entries;
            Publish();
            foreach (var e in old) e.Retire();
        }
    }

    /// <summary>Adds or replaces one plugin's skill; the replaced one is retired.</summary>
    public void SetPlugin(SkillEntry entry)
    {
        lock (_lock)
        {
            var next = new Dictionary<string, SkillEntry>(_plugins, StringComparer.OrdinalIgnoreCase);
            next.TryGetValue(entry.Id, out var old);
            next[entry.Id] = entry;
            _plugins = next;
            Publish();
            old?.Retire();
        }
    }

    public void RemovePlugin(string id)
    {
        lock (_lock)
        {
            if (!_plugins.TryGetValue(id, out var old)) return;
            var next = new Dictionary<string, SkillEntry>(_plugins, StringComparer.OrdinalIgnoreCase);
            next.Remove(id);
            _plugins = next;
            Publish();
            old.Retire();
        }
    }

    public IReadOnlyCollection<string> PluginIds
    {
        get
        {
            lock (_lock) return _plugins.Keys.ToList();
        }
    }

    private void Publish() => _snapshot = [.. _builtIns, .. _plugins.Values.OrderBy(p => p.Id, StringComparer.Ordinal)];

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var e in _snapshot) e.Retire();
            _snapshot = [];
            _builtIns = [];
            _plugins = new(StringComparer.OrdinalIgnoreCase);
        }
    }
}
