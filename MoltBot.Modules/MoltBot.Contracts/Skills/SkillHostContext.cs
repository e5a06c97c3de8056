using System.Text.Json;
using MoltBot.Contracts.Memory;
using MoltBot.Contracts.Pipeline;

namespace MoltBot.Contracts.Skills;

/// <summary>The capability names a skill may declare in its manifest (and a plugin in its plugin.json).</summary>
public static class SkillPermissions
{
    /// <summary>Outbound HTTP: the skill gets <see cref="SkillHostContext.Http"/>.</summary>
    public const string Network = "network";

    /// <summary>A private key/value store: <see cref="SkillHostContext.Storage"/>.</summary>
    public const string Storage = "storage";

    /// <summary>The user's fact memory: <see cref="SkillHostContext.Memory"/>.</summary>
    public const string Memory = "memory";

    /// <summary>Speaking first (without a user message): <see cref="SkillHostContext.Outbound"/>.</summary>
    public const string Proactive = "proactive";

    public static readonly IReadOnlyList<string> All = [Network, Storage, Memory, Proactive];
}

/// <summary>
/// What the host hands a skill when it creates it: its settings (from config/skills/&lt;id&gt;.json) and only the
/// capabilities its manifest declares. Asking for an undeclared capability throws <see cref="SkillPermissionException"/>.
/// A plugin's entry type has a public constructor taking this, or a parameterless one.
/// </summary>
public sealed class SkillHostContext
{
    private readonly HttpClient? _http;
    private readonly ISkillStorage? _storage;
    private readonly IFactMemory? _memory;
    private readonly IOutboundQueue? _outbound;

    public SkillHostContext(
        string skillId, IReadOnlyCollection<string> granted, JsonElement settings, TimeProvider clock,
        HttpClient? http = null, ISkillStorage? storage = null, IFactMemory? memory = null, IOutboundQueue? outbound = null)
    {
        SkillId = skillId;
        Granted = granted;
        Settings = settings;
        Clock = clock;
        _http = granted.Contains(SkillPermissions.Network) ? http : null;
        _storage = granted.Contains(SkillPermissions.Storage) ? storage : null;
        _memory = granted.Contains(SkillPermissions.Memory) ? memory : null;
        _outbound = granted.Contains(SkillPermissions.Proactive) ? outbound : null;
    }

    public string SkillId { get; }

    /// <summary>The permissions this skill was granted (what its manifest declared).</summary>
    public IReadOnlyCollection<string> Granted { get; }

    /// <summary>The "Settings" object of config/skills/&lt;id&gt;.json (validated against the plugin's config schema), or an empty object.</summary>
    public JsonElement Settings { get; }

    public TimeProvider Clock { get; }

    public HttpClient Http => _http ?? throw Denied(SkillPermissions.Network);

    public ISkillStorage Storage => _storage ?? throw Denied(SkillPermissions.Storage);

    public IFactMemory Memory => _memory ?? throw Denied(SkillPermissions.Memory);

    public IOutboundQueue Outbound => _outbound ?? throw Denied(SkillPermissions.Proactive);

    public bool Has(string permission) => permission switch
    {
        SkillPermissions.Network => _http is not null,
        SkillPermissions.Storage => _storage is not null,
        SkillPermissions.Memory => _memory is not null,
        SkillPermissions.Proactive => _outbound is not null,
        _ => false,
    };

    private SkillPermissionException Denied(string permission) => new(SkillId, permission, Granted.Contains(permission));
}

/// <summary>Thrown when a skill uses a capability its manifest did not declare (or that this host does not offer).</summary>
public sealed class SkillPermissionException(string skillId, string permission, bool declaredButUnavailable)
    : InvalidOperationException(declaredButUnavailable
        ? $"Skill '{skillId}' declared the '{permission}' permission but this MoltBot host does not provide it."
        : $"Skill '{skillId}' did not declare the '{permission}' permission in its manifest, so it cannot use it.")
{
    public string SkillId { get; } = skillId;
    public string Permission { get; } = permission;
}

/// <summary>A skill's private key/value store (values are strings; use JSON for structure). Keys are per skill.</summary>
public interface ISkillStorage
{
    Task<string?> GetAsync(string key, CancellationToken cancellationToken);

    Task SetAsync(string key, string value, CancellationToken cancellationToken);

    /// <summary>Returns false when the key did not exist.</summary>
    Task<bool> DeleteAsync(string key, CancellationToken cancellationToken);

    Task<IReadOnlyList<string>> KeysAsync(string prefix, CancellationToken cancellationToken);
}
