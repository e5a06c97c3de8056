using MoltBot.Contracts.Inference;
using MoltBot.Contracts.Messaging;

namespace MoltBot.Contracts.Skills;

/// <summary>A capability the bot can run for a user: built in, or loaded from a plugin assembly.</summary>
public interface ISkill
{
    SkillManifest Manifest { get; }

    Task<SkillResult> ExecuteAsync(SkillContext context, CancellationToken cancellationToken);
}

/// <summary>What a skill declares about itself (for built-ins in code, for plugins in plugin.json).</summary>
public sealed record SkillManifest
{
    public required string Id { get; init; }
    public string Version { get; init; } = "1.0.0";
    public string Description { get; init; } = "";

    /// <summary>Description per language ("en", "zh"), used by the help skill.</summary>
    public IReadOnlyDictionary<string, string> Descriptions { get; init; } = new Dictionary<string, string>();

    public SkillTriggers Triggers { get; init; } = new();

    /// <summary>Slots (entity types) the skill needs before it can run; the dialog manager asks for missing ones.</summary>
    public IReadOnlyList<SlotRequirement> RequiredSlots { get; init; } = [];

    /// <summary>Capabilities the skill is given, e.g. "network", "storage", "memory", "proactive".</summary>
    public IReadOnlyList<string> Permissions { get; init; } = [];
}

public sealed record SkillTriggers
{
    public IReadOnlyList<string> Intents { get; init; } = [];

    /// <summary>Keywords in any language (matched case-insensitively as substrings, e.g. "weather", "天气").</summary>
    public IReadOnlyList<string> Keywords { get; init; } = [];

    /// <summary>.NET regular expressions matched against the whole text.</summary>
    public IReadOnlyList<string> Patterns { get; init; } = [];
}

/// <param name="Question">What to ask for the slot, per language ("en", "zh").</param>
public sealed record SlotRequirement(string Slot, IReadOnlyDictionary<string, string> Question);

public sealed record SkillContext
{
    public required Envelope Envelope { get; init; }
    public required NluResult Nlu { get; init; }

    /// <summary>Filled slots: entity type → value (from this turn or earlier turns of the same intent).</summary>
    public IReadOnlyDictionary<string, string> Slots { get; init; } = new Dictionary<string, string>();

    /// <summary>"en" or "zh".</summary>
    public string Language { get; init; } = "en";

    /// <summary>IANA time zone of the user, if known.</summary>
    public string? TimeZone { get; init; }

    /// <summary>The user's city, if known (weather default).</summary>
    public string? City { get; init; }

    public string? TraceId { get; init; }
}

public sealed record SkillResult
{
    public string Text { get; init; } = "";
    public string? CardJson { get; init; }

    /// <summary>Set when the skill needs more information: the dialog manager asks this and keeps the intent active.</summary>
    public string? FollowUpQuestion { get; init; }

    /// <summary>The slot the follow-up question asks for.</summary>
    public string? MissingSlot { get; init; }

    /// <summary>False when the skill failed (timeout, exception); Text then holds the apology.</summary>
    public bool Succeeded { get; init; } = true;

    public static SkillResult Say(string text) => new() { Text = text };
    public static SkillResult Ask(string slot, string question) => new() { FollowUpQuestion = question, MissingSlot = slot, Text = question };
}

/// <summary>How the dialog manager reaches skills: matching a turn to a skill, and running it under its budget.</summary>
public interface ISkillDispatcher
{
    IReadOnlyList<SkillManifest> Skills { get; }

    /// <summary>The skill for this turn (intent first, then keywords, then patterns), or null.</summary>
    SkillManifest? Match(string text, NluResult nlu);

    /// <summary>Runs a skill with its timeout, concurrency limit and exception containment: never throws for skill faults.</summary>
    Task<SkillResult> ExecuteAsync(string skillId, SkillContext context, CancellationToken cancellationToken);
}
