namespace MoltBot.Contracts.Memory;

/// <summary>Per-conversation dialog state, kept by the memory module so it survives restarts.</summary>
public interface IDialogStateStore
{
    /// <summary>The stored state, or null for a conversation without one.</summary>
    ValueTask<DialogState?> GetAsync(string conversationKey, CancellationToken cancellationToken);

    /// <summary>Completes once the state is durable.</summary>
    ValueTask SaveAsync(DialogState state, CancellationToken cancellationToken);
}

/// <summary>What the dialog manager knows about one conversation between turns. Timestamps are ms since the Unix epoch, UTC.</summary>
public sealed record DialogState(string ConversationKey, string UserKey)
{
    /// <summary>The intent being worked on (slot filling or awaiting confirmation), or null when idle.</summary>
    public string? ActiveIntent { get; init; }
    public string? SkillId { get; init; }
    public IReadOnlyDictionary<string, string> FilledSlots { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<string> MissingSlots { get; init; } = [];

    /// <summary>The clarification question asked last turn and the slot it asks for.</summary>
    public string? PendingQuestion { get; init; }
    public string? PendingSlot { get; init; }

    /// <summary>True while a yes/no confirmation for <see cref="SkillId"/> is pending.</summary>
    public bool AwaitingConfirmation { get; init; }

    /// <summary>An intent interrupted by a topic switch, resumed after the new one (Dialog:TopicSwitch = resume).</summary>
    public DialogState? Suspended { get; init; }

    public string Language { get; init; } = "en";
    public long LastActivityMs { get; init; }

    /// <summary>When this state last changed.</summary>
    public long UpdatedMs { get; init; }
}
