namespace MoltBot.Security.Pii;

/// <summary>One conversation's token ↔ value map. The same value always gets the same token in a conversation.</summary>
public sealed class ConversationVault(string conversationKey)
{
    private readonly Dictionary<string, string> _tokenByValue = new(StringComparer.Ordinal);
    private readonly Dictionary<string, VaultEntry> _entryByToken = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _counters = new(StringComparer.Ordinal);

    public string ConversationKey { get; } = conversationKey;

    /// <summary>Guards the vault's maps; the file write is serialized separately by the store.</summary>
    internal object Sync { get; } = new();

    internal SemaphoreSlim WriteGate { get; } = new(1, 1);

    public int Count => _entryByToken.Count;

    public IReadOnlyCollection<VaultEntry> Entries => _entryByToken.Values;

    /// <summary>Returns the token for the value, creating it when new (then <paramref name="created"/> is true). Call under <see cref="Sync"/>.</summary>
    internal string TokenFor(string type, string value, out bool created)
    {
        string key = type + "\u0000" + Normalize(type, value);
        if (_tokenByValue.TryGetValue(key, out var existing))
        {
            created = false;
            return existing;
        }
        int n = _counters.GetValueOrDefault(type) + 1;
        _counters[type] = n;
        string token = $"⟦{type}_{n}⟧";
        _tokenByValue[key] = token;
        _entryByToken[token] = new VaultEntry(token, type, value);
        created = true;
        return token;
    }

    internal void Load(VaultEntry entry)
    {
        lock (Sync)
        {
            _entryByToken[entry.Token] = entry;
            _tokenByValue[entry.Type + "\u0000" + Normalize(entry.Type, entry.Value)] = entry.Token;
            if (int.TryParse(entry.Token.AsSpan(entry.Type.Length + 2, entry.Token.Length - entry.Type.Length - 3), out int n))
                _counters[entry.Type] = Math.Max(_counters.GetValueOrDefault(entry.Type), n);
        }
    }

    internal bool TryGet(string token, out VaultEntry entry)
    {
        lock (Sync) return _entryByToken.TryGetValue(token, out entry!);
    }

    internal List<VaultEntry> Snapshot()
    {
        lock (Sync) return _entryByToken.Values.ToList();
    }

    /// <summary>"+86 138 1234 5678" and "13812345678" are one phone; "A@B.COM" and "a@b.com" one address.</summary>
    private static string Normalize(string type, string value) => type switch
    {
        PiiTypes.Email => value.ToLowerInvariant(),
        PiiTypes.Phone or PiiTypes.Card or PiiTypes.Iban or PiiTypes.ChineseId =>
            new string(value.Where(char.IsAsciiLetterOrDigit).ToArray()).ToUpperInvariant(),
        _ => value,
    };
}

public sealed record VaultEntry(string Token, string Type, string Value);
