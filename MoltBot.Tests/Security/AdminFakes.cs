using MoltBot.Contracts.Admin;

namespace MoltBot.Tests.Security;

/// <summary>Small stand-ins for the admin ports other modules implement.</summary>
public sealed class FakeChannelAdmin : IChannelAdmin
{
    private readonly Dictionary<string, bool> _enabled = new() { ["telegram"] = true, ["web"] = true };

    public IReadOnlyList<ChannelStatus> List()
    {
        lock (_enabled) return _enabled.Select(kv => new ChannelStatus(kv.Key, kv.Value, kv.Value ? "Connected" : "Disabled")).ToList();
    }

    public Task<bool> SetEnabledAsync(string platform, bool enabled, CancellationToken cancellationToken)
    {
        lock (_enabled)
        {
            if (!_enabled.ContainsKey(platform)) return Task.FromResult(false);
            _enabled[platform] = enabled;
            return Task.FromResult(true);
        }
    }
}

public sealed class FakeSkillAdmin : ISkillAdmin
{
    public int Reloads;
    public Task ReloadAsync(CancellationToken cancellationToken) { Interlocked.Increment(ref Reloads); return Task.CompletedTask; }
}

public sealed class FakeModelAdmin : IModelAdmin
{
    public int Reloads;
    public Task ReloadAsync(CancellationToken cancellationToken) { Interlocked.Increment(ref Reloads); return Task.CompletedTask; }
}

public sealed class FakeConversationReader : IConversationReader
{
    public Task<IReadOnlyList<ConversationSummary>> ListAsync(int skip, int take, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<ConversationSummary>>([new ConversationSummary("telegram:c1", "telegram:u1", 2, 1_700_000_000_000)]);

    public Task<IReadOnlyList<StoredMessage>> MessagesAsync(string conversationKey, int take, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<StoredMessage>>(
        [
            new StoredMessage("m1", conversationKey, "telegram:u1", "in", "mail me at ⟦EMAIL_1⟧", 1_700_000_000_000),
            // Stored before masking was switched on: the admin API masks it on the way out.
            new StoredMessage("m2", conversationKey, "telegram:u1", "in", "old text with legacy@example.com", 1_700_000_000_001),
        ]);
}

public sealed class FakeUserDataRights : IUserDataRights
{
    public Task<string> ExportJsonAsync(string userKey, CancellationToken cancellationToken) =>
        Task.FromResult($$"""{"userKey":"{{userKey}}","messages":[]}""");

    public Task<int> DeleteAsync(string userKey, CancellationToken cancellationToken) => Task.FromResult(3);
}
