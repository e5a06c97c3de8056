using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace MoltBot.Security.Admin;

/// <summary>A stored API key: never the key itself, only a salted PBKDF2-SHA256 hash of it.</summary>
public sealed record ApiKeyRecord(string Id, string Name, string Role, string Salt, string Hash, int Iterations, long CreatedMs, string CreatedBy)
{
    public long? RevokedMs { get; init; }
    public bool Active => RevokedMs is null;
}

/// <param name="Key">The bearer key, shown once: "mb_{id}_{secret}".</param>
public sealed record CreatedApiKey(ApiKeyRecord Record, string Key);

/// <summary>
/// API keys in {DataDirectory}/security/api-keys.json (0600). The server and the CLI share the file: writes are
/// atomic (temp + rename) and the server re-reads it when it changes, so `moltbot apikey create` works on a
/// running server. A verified key is remembered by its SHA-256 so each request does not pay the PBKDF2 cost.
/// </summary>
public sealed class ApiKeyStore(string filePath, int iterations, TimeProvider clock)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<string, string> _verified = new(StringComparer.Ordinal);
    private List<ApiKeyRecord> _records = [];
    private DateTime _loadedWriteTime = DateTime.MinValue;

    public string FilePath { get; } = filePath;

    public async Task<CreatedApiKey> CreateAsync(string role, string name, string createdBy, CancellationToken cancellationToken)
    {
        string id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        string secret = Base64Url(RandomNumberGenerator.GetBytes(32));
        string key = $"mb_{id}_{secret}";
        var salt = RandomNumberGenerator.GetBytes(16);
        var record = new ApiKeyRecord(id, name, role, Convert.ToBase64String(salt), Convert.ToBase64String(Derive(key, salt, iterations)),
            iterations, clock.GetUtcNow().ToUnixTimeMilliseconds(), createdBy);
        await MutateAsync(list => list.Add(record), cancellationToken).ConfigureAwait(false);
        return new CreatedApiKey(record, key);
    }

    /// <summary>Returns false when no active key has that id.</summary>
    public async Task<bool> RevokeAsync(string id, CancellationToken cancellationToken)
    {
        bool found = false;
        long now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        await MutateAsync(list =>
        {
            int i = list.FindIndex(r => r.Id == id && r.Active);
            if (i < 0) return;
            list[i] = list[i] with { RevokedMs = now };
            found = true;
        }, cancellationToken).ConfigureAwait(false);
        return found;
    }

    public async Task<IReadOnlyList<ApiKeyRecord>> ListAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await RefreshAsync(cancellationToken).ConfigureAwait(false);
            return _records.ToList();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The active key record for a presented bearer key, or null.</summary>
    public async Task<ApiKeyRecord?> AuthenticateAsync(string presented, CancellationToken cancellationToken)
    {
        var parts = presented.Split('_', 3);
        if (parts.Length != 3 || parts[0] != "mb" || parts[1].Length != 8) return null;
        string fingerprint = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(presented)));
        ApiKeyRecord? record;
        bool known;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await RefreshAsync(cancellationToken).ConfigureAwait(false);
            record = _records.FirstOrDefault(r => r.Id == parts[1] && r.Active);
            lock (_verified) known = record is not null && _verified.TryGetValue(fingerprint, out var id) && id == record.Id;
        }
        finally
        {
            _gate.Release();
        }
        if (record is null) return null;
        if (known) return record;
        var expected = Convert.FromBase64String(record.Hash);
        var actual = Derive(presented, Convert.FromBase64String(record.Salt), record.Iterations);
        if (!CryptographicOperations.FixedTimeEquals(expected, actual)) return null;
        lock (_verified) _verified[fingerprint] = record.Id;
        return record;
    }

    private static byte[] Derive(string key, byte[] salt, int iterations) =>
        Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(key), salt, iterations, HashAlgorithmName.SHA256, 32);

    private async Task MutateAsync(Action<List<ApiKeyRecord>> change, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await RefreshAsync(cancellationToken).ConfigureAwait(false);
            var list = _records.ToList();
            change(list);
            await SecureFile.WriteAllBytesAsync(FilePath, JsonSerializer.SerializeToUtf8Bytes(list, Json), cancellationToken).ConfigureAwait(false);
            _records = list;
            _loadedWriteTime = File.GetLastWriteTimeUtc(FilePath);
            lock (_verified) _verified.Clear();
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(FilePath))
        {
            _records = [];
            return;
        }
        var writeTime = File.GetLastWriteTimeUtc(FilePath);
        if (writeTime == _loadedWriteTime) return;
        try
        {
            await using var stream = File.OpenRead(FilePath);
            _records = await JsonSerializer.DeserializeAsync<List<ApiKeyRecord>>(stream, Json, cancellationToken).ConfigureAwait(false) ?? [];
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"API key file {FilePath} is not valid JSON ({ex.Message}); restore it from a backup.", ex);
        }
        _loadedWriteTime = writeTime;
        lock (_verified) _verified.Clear();
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
