using Microsoft.Extensions.Options;
using MoltBot.Contracts.Memory;
using MoltBot.Memory.Storage;

namespace MoltBot.Memory;

/// <summary>Mid-term memory: profiles in an LRU cache (Memory:ProfileCacheCapacity) over the "profiles" collection, written through.</summary>
public sealed class UserProfileStore(MemoryDatabase database, GroupCommitWriter writer, IOptions<MemoryOptions> options) : IUserProfileStore
{
    internal LruCache<string, UserProfile> Cache { get; } = new(options.Value.ProfileCacheCapacity);

    public ValueTask<UserProfile> GetAsync(string userKey, CancellationToken cancellationToken)
    {
        if (Cache.TryGet(userKey, out var cached)) return ValueTask.FromResult(cached);
        cancellationToken.ThrowIfCancellationRequested();
        var doc = database.Collection<ProfileDoc>(Collections.Profiles).FindById(userKey);
        var profile = doc is null ? new UserProfile(userKey) : FromDoc(doc);
        Cache.Set(userKey, profile);
        return ValueTask.FromResult(profile);
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
        // Durable first, cached second: an evicted profile is simply read back from LiteDB.
        await writer.WriteAsync(db => db.GetCollection<ProfileDoc>(Collections.Profiles).Upsert(doc), cancellationToken).ConfigureAwait(false);
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
