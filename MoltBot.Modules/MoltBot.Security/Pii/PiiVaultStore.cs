using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace MoltBot.Security.Pii;

/// <summary>
/// Keeps the conversation vaults, one file per conversation under {DataDirectory}/security/vault/, each encrypted
/// with AES-GCM (random 12-byte nonce, the conversation key as associated data so files cannot be swapped). File
/// names are an HMAC of the conversation key, so not even conversation ids are readable on disk.
/// </summary>
public sealed class PiiVaultStore : IDisposable
{
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private static readonly byte[] Magic = "MBV1"u8.ToArray();

    private readonly byte[] _key;
    private readonly string _directory;
    private readonly int _cacheSize;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Lazy<Task<ConversationVault>>> _cache = new(StringComparer.Ordinal);

    public PiiVaultStore(byte[] key, string directory, int cacheSize, ILogger<PiiVaultStore> logger)
    {
        _key = key;
        _directory = directory;
        _cacheSize = cacheSize;
        _logger = logger;
        Directory.CreateDirectory(directory);
    }

    public Task<ConversationVault> GetAsync(string conversationKey, CancellationToken cancellationToken)
    {
        if (_cache.Count >= _cacheSize)
        {
            // Vaults are on disk; dropping some from memory only costs a re-read.
            foreach (var k in _cache.Keys.Take(Math.Max(1, _cacheSize / 10))) _cache.TryRemove(k, out _);
        }
        var lazy = _cache.GetOrAdd(conversationKey, k => new Lazy<Task<ConversationVault>>(() => LoadAsync(k, CancellationToken.None)));
        return lazy.Value.WaitAsync(cancellationToken);
    }

    public string FileFor(string conversationKey)
    {
        var mac = HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes("vault-file:" + conversationKey));
        return Path.Combine(_directory, Convert.ToHexStringLower(mac.AsSpan(0, 16)) + ".vault");
    }

    /// <summary>Forgets a conversation's vault (memory and disk), e.g. when its user's data is erased. Returns whether a file existed.</summary>
    public bool Delete(string conversationKey)
    {
        _cache.TryRemove(conversationKey, out _);
        string file = FileFor(conversationKey);
        if (!File.Exists(file)) return false;
        File.Delete(file);
        return true;
    }

    public async Task SaveAsync(ConversationVault vault, CancellationToken cancellationToken)
    {
        await vault.WriteGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var plain = JsonSerializer.SerializeToUtf8Bytes(vault.Snapshot());
            var nonce = RandomNumberGenerator.GetBytes(NonceSize);
            var output = new byte[Magic.Length + NonceSize + TagSize + plain.Length];
            Magic.CopyTo(output, 0);
            nonce.CopyTo(output, Magic.Length);
            using (var aes = new AesGcm(_key, TagSize))
            {
                aes.Encrypt(nonce, plain, output.AsSpan(Magic.Length + NonceSize + TagSize), output.AsSpan(Magic.Length + NonceSize, TagSize),
                    Encoding.UTF8.GetBytes(vault.ConversationKey));
            }
            CryptographicOperations.ZeroMemory(plain);
            await SecureFile.WriteAllBytesAsync(FileFor(vault.ConversationKey), output, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            vault.WriteGate.Release();
        }
    }

    private async Task<ConversationVault> LoadAsync(string conversationKey, CancellationToken cancellationToken)
    {
        var vault = new ConversationVault(conversationKey);
        string file = FileFor(conversationKey);
        if (!File.Exists(file)) return vault;
        var data = await File.ReadAllBytesAsync(file, cancellationToken).ConfigureAwait(false);
        try
        {
            if (data.Length < Magic.Length + NonceSize + TagSize || !data.AsSpan(0, Magic.Length).SequenceEqual(Magic))
                throw new InvalidDataException("not a MoltBot vault file");
            var plain = new byte[data.Length - Magic.Length - NonceSize - TagSize];
            using (var aes = new AesGcm(_key, TagSize))
            {
                aes.Decrypt(data.AsSpan(Magic.Length, NonceSize), data.AsSpan(Magic.Length + NonceSize + TagSize),
                    data.AsSpan(Magic.Length + NonceSize, TagSize), plain, Encoding.UTF8.GetBytes(conversationKey));
            }
            foreach (var entry in JsonSerializer.Deserialize<List<VaultEntry>>(plain) ?? []) vault.Load(entry);
            CryptographicOperations.ZeroMemory(plain);
        }
        catch (Exception ex) when (ex is CryptographicException or InvalidDataException or JsonException)
        {
            // Wrong key or damaged file: keep it aside for recovery (never delete), and start an empty vault.
            string aside = file + ".unreadable-" + DateTime.UtcNow.ToString("yyyyMMddHHmmss");
            File.Move(file, aside, overwrite: true);
            _logger.LogError("PII vault file {File} cannot be decrypted ({Reason}); moved to {Aside}. Is Security:Vault:Key the key it was written with?",
                file, ex.GetType().Name, aside);
        }
        return vault;
    }

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_key);
    }
}
