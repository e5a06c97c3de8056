using System.Security.Cryptography;
using MoltBot.Contracts.Configuration;

namespace MoltBot.Security.Pii;

/// <summary>
/// The AES key that encrypts the PII vaults: Security:Vault:Key (base64) when set; otherwise a 32-byte key generated
/// once into {DataDirectory}/security/vault.key with owner-only permissions (0600). Losing that file makes the
/// stored vaults unreadable (masked tokens can then no longer be restored), so back it up with the data directory.
/// </summary>
public static class VaultKey
{
    public static byte[] Load(SecurityOptions options, MoltBotPaths paths)
    {
        if (!string.IsNullOrEmpty(options.Vault.Key))
        {
            return SecurityOptionsValidator.VaultKeyBytes(options.Vault.Key)
                ?? throw new StartupException("Security:Vault:Key must be base64 of 16, 24 or 32 bytes.");
        }
        string file = paths.Data(options.Vault.KeyFile);
        try
        {
            if (File.Exists(file))
            {
                var key = SecurityOptionsValidator.VaultKeyBytes(File.ReadAllText(file).Trim())
                    ?? throw new StartupException($"Vault key file {file} is corrupt (expected base64 of 16, 24 or 32 bytes); restore it from a backup or set Security:Vault:Key.");
                return key;
            }
            var generated = RandomNumberGenerator.GetBytes(32);
            SecureFile.WriteAllText(file, Convert.ToBase64String(generated));
            return generated;
        }
        catch (IOException ex)
        {
            throw new StartupException($"Cannot read or create the vault key file {file}: {ex.Message}", ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new StartupException($"Cannot read or create the vault key file {file}: {ex.Message}", ex);
        }
    }
}
