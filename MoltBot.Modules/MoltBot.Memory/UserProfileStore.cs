using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Memory;
using MoltBot.Memory.Storage;

namespace MoltBot.Memory;

/// <summary>
/// Mid-term memory: profiles in an LRU cache (Memory:ProfileCacheCapacity) over the "profiles" collection, written
/// through — with Memory:DatabaseWriteBehind, cached and queued without waiting for the commit (a cache miss waits
/// for the queued writes first, so it reads what was saved).
/// </summary>
public sealed class UserProfileStore(MemoryDatabase database, GroupCommitWriter writer, IOptions<MemoryOptions> options, ILogger<UserProfileStore> logger)
    : IUserProfileStore
{
    internal LruCache<string, UserProfile> Cache { get; } = new(options.Value.ProfileCacheCapacity);

    public ValueTask<UserProfile> GetAsync(string userKey, CancellationToken cancellationToken)
    {
        if (Cache.TryGet(userKey, out var cached)) return ValueTask.FromResult(cached);
        return ReadAsync(userKey, cancellationToken);
    }

    private async ValueTask<UserProfile> ReadAsync(string userKey, CancellationToken cancellationToken)
    {
        if (options.Value.DatabaseWriteBehind) await writer.WhenWrittenAsync(cancellationToken).ConfigureAwait(false);
        else cancellationToken.ThrowIfCancellationRequested();
        var doc = database.Collection<ProfileDoc>(Collections.Profiles).FindById(userKey);
        var profile = doc is null ? new UserProfile(userKey) : FromDoc(doc);
        Cache.Set(userKey, profile);
        return profile;
    }

    public async ValueTask SaveAsync(UserProfile profile, CancellationToken cancellationToken)
    {
        var doc = new ProfileDoc
        {
            Id = profile.UserKey,
            DisplayName = profile.DisplayName,
            Language = profile.Language,
            TimeZone = profile.TimeZone,
            City = profile.City,
            Preferences = new Dictionary<string, string>(profile.Preferences),
            UpdatedMs = profile.UpdatedMs,
        };
        // Not a raw write (WriteBatch.Db): a profile touches no conversation or message, so the writer's held
        // conversation documents and turns need not be written out for it (a new user's first turn saves a profile).
        var committed = await writer.EnqueueAsync((WriteBatch batch) => batch.DbWithoutConversations.GetCollection<ProfileDoc>(Collections.Profiles).Upsert(doc),
            checkpoint: false, cancellationToken).ConfigureAwait(false);
        if (options.Value.DatabaseWriteBehind)
        {
            // Cached once queued; an evicted profile is read back after the queued writes (see ReadAsync).
            Cache.Set(profile.UserKey, profile);
            WriteBehind.LogIfFailed(committed, logger,
                "Writing the profile of {UserKey} to LiteDB failed; the cached profile stays in use", profile.UserKey);
            return;
        }
        // Durable first, cached second: an evicted profile is simply read back from LiteDB.
        await committed.WaitAsync(cancellationToken).ConfigureAwait(false);
        Cache.Set(profile.UserKey, profile);
    }

    internal static UserProfile FromDoc(ProfileDoc d) => new(d.Id)
    {
        DisplayName = d.DisplayName,
        Language = d.Language,
        TimeZone = d.TimeZone,
        City = d.City,
        Preferences = d.Preferences ?? new Dictionary<string, string>(),
        UpdatedMs = d.UpdatedMs,
    };
}
