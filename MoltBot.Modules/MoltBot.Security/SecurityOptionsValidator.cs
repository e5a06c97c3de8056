using Microsoft.Extensions.Options;

namespace MoltBot.Security;

/// <summary>Checks the Security section at start; every message names the key and what is allowed.</summary>
public sealed class SecurityOptionsValidator : IValidateOptions<SecurityOptions>
{
    public ValidateOptionsResult Validate(string? name, SecurityOptions o)
    {
        var errors = new List<string>();
        if (o.Tls.MinimumInbound is not ("Tls13" or "Tls12"))
            errors.Add($"Security:Tls:MinimumInbound '{o.Tls.MinimumInbound}' is not valid; use \"Tls13\" (default) or \"Tls12\".");
        foreach (var type in o.Pii.Restore.Keys.Where(k => !PiiTypes.All.Contains(k, StringComparer.OrdinalIgnoreCase)))
            errors.Add($"Security:Pii:Restore:{type} is not an entity type; use one of {string.Join(", ", PiiTypes.All)}.");
        if (!string.IsNullOrEmpty(o.Vault.Key) && VaultKeyBytes(o.Vault.Key) is null)
            errors.Add("Security:Vault:Key must be base64 of 16, 24 or 32 bytes (e.g. `openssl rand -base64 32`), or empty to use the generated key file.");
        if (string.IsNullOrWhiteSpace(o.Vault.KeyFile))
            errors.Add("Security:Vault:KeyFile must be a file path relative to the data directory (default \"security/vault.key\").");
        if (o.Vault.CacheSize is < 1 or > 10_000_000)
            errors.Add($"Security:Vault:CacheSize {o.Vault.CacheSize} is out of range; allowed 1..10000000.");
        if (string.IsNullOrWhiteSpace(o.Audit.File))
            errors.Add("Security:Audit:File must be a file path relative to the data directory (default \"audit/audit.jsonl\").");
        if (o.Audit.QueueCapacity is < 1 or > 1_000_000)
            errors.Add($"Security:Audit:QueueCapacity {o.Audit.QueueCapacity} is out of range; allowed 1..1000000.");
        if (o.Audit.SyncMilliseconds is < 0 or > 10_000)
            errors.Add($"Security:Audit:SyncMilliseconds {o.Audit.SyncMilliseconds} is out of range; allowed 0 (fsync every append) ..10000.");
        if (string.IsNullOrWhiteSpace(o.ApiKeys.File))
            errors.Add("Security:ApiKeys:File must be a file path relative to the data directory (default \"security/api-keys.json\").");
        if (o.ApiKeys.Pbkdf2Iterations is < 100_000 or > 10_000_000)
            errors.Add($"Security:ApiKeys:Pbkdf2Iterations {o.ApiKeys.Pbkdf2Iterations} is out of range; allowed 100000..10000000.");
        if (o.AuthLimit.MaxFailures is < 1 or > 1_000_000)
            errors.Add($"Security:AuthLimit:MaxFailures {o.AuthLimit.MaxFailures} is out of range; allowed 1..1000000.");
        if (o.AuthLimit.WindowSeconds is < 1 or > 86_400)
            errors.Add($"Security:AuthLimit:WindowSeconds {o.AuthLimit.WindowSeconds} is out of range; allowed 1..86400.");
        if (o.Roles.Count == 0)
            errors.Add("Security:Roles is empty; config/roles.json must define the roles admin, operator, viewer and auditor.");
        foreach (var (role, perms) in o.Roles)
        {
            foreach (var p in perms.Where(p => p != "*" && !AdminPermissions.All.Contains(p)))
                errors.Add($"Security:Roles:{role} has unknown permission '{p}'; allowed: *, {string.Join(", ", AdminPermissions.All)}.");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    public static byte[]? VaultKeyBytes(string base64)
    {
        try
        {
            var bytes = Convert.FromBase64String(base64);
            return bytes.Length is 16 or 24 or 32 ? bytes : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
