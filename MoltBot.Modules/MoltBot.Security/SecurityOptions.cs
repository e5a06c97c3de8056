namespace MoltBot.Security;

/// <summary>Configuration section "Security" (validated at start by <see cref="SecurityOptionsValidator"/>).</summary>
public sealed class SecurityOptions
{
    public const string Section = "Security";

    public TlsSettings Tls { get; set; } = new();
    public PiiSettings Pii { get; set; } = new();
    public VaultSettings Vault { get; set; } = new();
    public AuditSettings Audit { get; set; } = new();
    public ApiKeySettings ApiKeys { get; set; } = new();
    public AuthLimitSettings AuthLimit { get; set; } = new();

    /// <summary>Role → permissions (e.g. "channels.write", "*" for all). Written in config/roles.json.</summary>
    public Dictionary<string, List<string>> Roles { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Extra literal values to mask in logs besides the configuration values whose keys look secret.</summary>
    public List<string> LogSecrets { get; set; } = [];
}

public sealed class TlsSettings
{
    /// <summary>Lowest TLS version Kestrel's HTTPS endpoints accept: "Tls13" (default) or "Tls12".</summary>
    public string MinimumInbound { get; set; } = "Tls13";
}

public sealed class PiiSettings
{
    /// <summary>Mask personal data in inbound messages before the handler, models, logs and storage see it.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Entity type → whether an outbound reply may carry the original value back to the user.</summary>
    public Dictionary<string, bool> Restore { get; set; } = new(StringComparer.OrdinalIgnoreCase)
    {
        [PiiTypes.Email] = true,
        [PiiTypes.Phone] = true,
        [PiiTypes.Card] = false,
        [PiiTypes.ChineseId] = false,
        [PiiTypes.Iban] = false,
        [PiiTypes.Ip] = false,
        [PiiTypes.Secret] = false,
    };
}

public sealed class VaultSettings
{
    /// <summary>Base64 AES key (16, 24 or 32 bytes). Empty: a 32-byte key is generated once in <see cref="KeyFile"/>.</summary>
    public string Key { get; set; } = "";

    /// <summary>Relative to the data directory.</summary>
    public string KeyFile { get; set; } = "security/vault.key";

    /// <summary>Conversation vaults kept decrypted in memory (least recently used are dropped; they stay on disk).</summary>
    public int CacheSize { get; set; } = 10_000;
}

public sealed class AuditSettings
{
    /// <summary>Relative to the data directory.</summary>
    public string File { get; set; } = "audit/audit.jsonl";

    /// <summary>Bound of the append queue; appenders wait when it is full.</summary>
    public int QueueCapacity { get; set; } = 1_000;

    /// <summary>
    /// 0 (default): every audit append is fsynced before it completes (a model call waits for it). &gt; 0: appends
    /// complete once written to the OS and the log is fsynced after this many idle ms — a process crash loses nothing,
    /// a power loss or kernel crash at most that window; takes one fsync off every NLU call's latency.
    /// </summary>
    public int SyncMilliseconds { get; set; }
}

public sealed class ApiKeySettings
{
    /// <summary>Relative to the data directory.</summary>
    public string File { get; set; } = "security/api-keys.json";

    public int Pbkdf2Iterations { get; set; } = 210_000;
}

public sealed class AuthLimitSettings
{
    /// <summary>Failed authentications per client IP within <see cref="WindowSeconds"/> before answering 429.</summary>
    public int MaxFailures { get; set; } = 10;

    public int WindowSeconds { get; set; } = 60;
}

/// <summary>The entity types the PII detector knows; they name the tokens (⟦EMAIL_1⟧).</summary>
public static class PiiTypes
{
    public const string Email = "EMAIL";
    public const string Phone = "PHONE";
    public const string Card = "CARD";
    public const string ChineseId = "CNID";
    public const string Iban = "IBAN";
    public const string Ip = "IP";
    public const string Secret = "SECRET";

    public static readonly IReadOnlyList<string> All = [Email, Phone, Card, ChineseId, Iban, Ip, Secret];
}
