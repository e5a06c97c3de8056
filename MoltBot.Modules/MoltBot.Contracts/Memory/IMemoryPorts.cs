namespace MoltBot.Contracts.Memory;

/// <summary>Facts a user asked MoltBot to remember, recalled by meaning (vector search over sentence embeddings).</summary>
public interface IFactMemory
{
    Task<string> RememberAsync(string userKey, string fact, CancellationToken cancellationToken);

    Task<IReadOnlyList<RecalledFact>> RecallAsync(string userKey, string query, int k, CancellationToken cancellationToken);
}

/// <param name="Score">Cosine similarity to the query (higher is closer).</param>
public sealed record RecalledFact(string Id, string Text, float Score, long TimestampMs);

/// <summary>Mid-term memory: the user profile (LRU cache over LiteDB).</summary>
public interface IUserProfileStore
{
    /// <param name="userKey">platform:userId (see Envelope.ShardKey).</param>
    ValueTask<UserProfile> GetAsync(string userKey, CancellationToken cancellationToken);

    ValueTask SaveAsync(UserProfile profile, CancellationToken cancellationToken);
}

public sealed record UserProfile(string UserKey)
{
    public string? DisplayName { get; init; }
    public string? Language { get; init; }
    public string? TimeZone { get; init; }
    public string? City { get; init; }
    public IReadOnlyDictionary<string, string> Preferences { get; init; } = new Dictionary<string, string>();
    public long UpdatedMs { get; init; }
}
