namespace MoltBot.Security;

/// <summary>The permissions roles are granted in config/roles.json; every /admin endpoint requires exactly one.</summary>
public static class AdminPermissions
{
    public const string StatusRead = "status.read";
    public const string ChannelsRead = "channels.read";
    public const string ChannelsWrite = "channels.write";
    public const string SkillsRead = "skills.read";
    public const string SkillsWrite = "skills.write";
    public const string ModelsRead = "models.read";
    public const string ModelsWrite = "models.write";
    public const string ConversationsRead = "conversations.read";
    public const string UsersExport = "users.export";
    public const string UsersDelete = "users.delete";
    public const string ApiKeysRead = "apikeys.read";
    public const string ApiKeysWrite = "apikeys.write";
    public const string AuditRead = "audit.read";

    public static readonly IReadOnlyList<string> All =
    [
        StatusRead, ChannelsRead, ChannelsWrite, SkillsRead, SkillsWrite, ModelsRead, ModelsWrite, ConversationsRead,
        UsersExport, UsersDelete, ApiKeysRead, ApiKeysWrite, AuditRead,
    ];

    /// <summary>
    /// Used when configuration has no Security:Roles (e.g. a content root without config/roles.json); the same matrix
    /// as the shipped config/roles.json.
    /// </summary>
    public static Dictionary<string, List<string>> DefaultRoles() => new(StringComparer.OrdinalIgnoreCase)
    {
        ["admin"] = ["*"],
        ["operator"] = [StatusRead, ChannelsRead, ChannelsWrite, SkillsRead, SkillsWrite, ModelsRead, ModelsWrite, ConversationsRead],
        ["viewer"] = [StatusRead, ChannelsRead, SkillsRead, ModelsRead],
        ["auditor"] = [StatusRead, AuditRead],
    };

    public static bool Allows(SecurityOptions options, string role, string permission) =>
        options.Roles.TryGetValue(role, out var granted) && (granted.Contains("*") || granted.Contains(permission));
}

/// <summary>Endpoint metadata: the permission an /admin endpoint requires. An endpoint without it is refused to everyone.</summary>
public sealed record RequiresPermission(string Permission);
