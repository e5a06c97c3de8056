namespace MoltBot.Contracts.Security;

/// <summary>Append-only, hash-chained record of admin operations and model calls. Holds hashes, never raw text.</summary>
public interface IAuditLog
{
    ValueTask AppendAsync(AuditEntry entry, CancellationToken cancellationToken);
}

/// <param name="Actor">API key id, user key or "system".</param>
/// <param name="Action">e.g. "model.generate", "admin.channels.disable".</param>
public sealed record AuditEntry(string Actor, string Role, string Action, string Target)
{
    public long TimestampMs { get; init; }
    public string? Model { get; init; }
    public double? LatencyMs { get; init; }
    public int? InputTokens { get; init; }
    public int? OutputTokens { get; init; }
    public string? InputHash { get; init; }
    public string? OutputHash { get; init; }
    public string? Outcome { get; init; }
}

/// <summary>Replaces personal data with stable per-conversation tokens (e.g. ⟦EMAIL_1⟧) and restores them when policy allows.</summary>
public interface IPiiMasker
{
    ValueTask<string> MaskAsync(string conversationKey, string text, CancellationToken cancellationToken);

    ValueTask<string> UnmaskAsync(string conversationKey, string text, CancellationToken cancellationToken);
}
