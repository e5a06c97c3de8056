namespace MoltBot.Contracts.Admin;

// Small ports the admin API (security module) uses to act on other modules. Each module implements its own.

/// <summary>Implemented by the memory module: what MoltBot holds about a user, and erasing it from every tier.</summary>
public interface IUserDataRights
{
    /// <summary>Everything held about the user (profile, conversations, messages, facts, events) as one JSON document.</summary>
    Task<string> ExportJsonAsync(string userKey, CancellationToken cancellationToken);

    /// <summary>Deletes the user from every tier (LiteDB collections, event log, vector index, caches). Returns items removed.</summary>
    Task<int> DeleteAsync(string userKey, CancellationToken cancellationToken);
}

/// <summary>Implemented by the memory module: read access to stored conversations (texts are already masked).</summary>
public interface IConversationReader
{
    Task<IReadOnlyList<ConversationSummary>> ListAsync(int skip, int take, CancellationToken cancellationToken);

    Task<IReadOnlyList<StoredMessage>> MessagesAsync(string conversationKey, int take, CancellationToken cancellationToken);
}

/// <param name="ConversationKey">platform:conversationId.</param>
public sealed record ConversationSummary(string ConversationKey, string UserKey, int MessageCount, long LastActivityMs);

/// <param name="Direction">"in" (user) or "out" (MoltBot).</param>
public sealed record StoredMessage(string Id, string ConversationKey, string UserKey, string Direction, string Text, long TimestampMs);

/// <summary>Implemented by the inference module.</summary>
public interface IModelAdmin
{
    /// <summary>Reloads the model folders from Models:Directory; the old models keep serving until the new ones are loaded.</summary>
    Task ReloadAsync(CancellationToken cancellationToken);
}

/// <summary>Implemented by the skills module.</summary>
public interface ISkillAdmin
{
    /// <summary>Rescans plugins/ and reloads them.</summary>
    Task ReloadAsync(CancellationToken cancellationToken);
}

/// <summary>Implemented by the channels module (and the gateway for "web").</summary>
public interface IChannelAdmin
{
    IReadOnlyList<ChannelStatus> List();

    /// <summary>Starts or stops a platform's adapter at run time. Returns false for an unknown platform.</summary>
    Task<bool> SetEnabledAsync(string platform, bool enabled, CancellationToken cancellationToken);
}

public sealed record ChannelStatus(string Platform, bool Enabled, string State);
