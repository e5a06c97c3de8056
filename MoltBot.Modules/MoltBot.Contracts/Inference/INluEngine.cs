namespace MoltBot.Contracts.Inference;

/// <summary>Natural-language understanding: intent, entities, language and a sentence embedding for one utterance.</summary>
public interface INluEngine
{
    Task<NluResult> ParseAsync(string text, CancellationToken cancellationToken);
}

/// <param name="Intent">One of the labels in <see cref="Intents"/>.</param>
/// <param name="Confidence">Probability of <paramref name="Intent"/> (0..1).</param>
/// <param name="Language">"en" or "zh" (detected).</param>
public sealed record NluResult(string Intent, float Confidence, IReadOnlyList<EntitySpan> Entities, string Language)
{
    /// <summary>Which model answered, e.g. "student-nlu" or "teacher-nlu".</summary>
    public string Model { get; init; } = "";

    /// <summary>True when the student was not confident enough and the teacher answered.</summary>
    public bool Escalated { get; init; }

    /// <summary>Pooled sentence embedding (L2-normalized), if the engine computed one.</summary>
    public float[]? Embedding { get; init; }
}

/// <param name="Start">Character offset (inclusive) in the parsed text.</param>
/// <param name="End">Character offset (exclusive).</param>
public sealed record EntitySpan(string Type, string Value, int Start, int End);

/// <summary>The intent taxonomy shared by the corpus, the models, the dialog manager and the skills.</summary>
public static class Intents
{
    public const string Greet = "greet";
    public const string Goodbye = "goodbye";
    public const string Thanks = "thanks";
    public const string Help = "help";
    public const string Affirm = "affirm";
    public const string Deny = "deny";
    public const string TimeQuery = "time_query";
    public const string WeatherQuery = "weather_query";
    public const string ReminderCreate = "reminder_create";
    public const string ReminderList = "reminder_list";
    public const string ReminderCancel = "reminder_cancel";
    public const string MemoryRemember = "memory_remember";
    public const string MemoryRecall = "memory_recall";
    public const string Smalltalk = "smalltalk";
    public const string OutOfScope = "out_of_scope";

    public static readonly IReadOnlyList<string> All =
    [
        Greet, Goodbye, Thanks, Help, Affirm, Deny, TimeQuery, WeatherQuery, ReminderCreate, ReminderList,
        ReminderCancel, MemoryRemember, MemoryRecall, Smalltalk, OutOfScope,
    ];
}

/// <summary>The entity types shared by the corpus, the models and the skills.</summary>
public static class EntityTypes
{
    public const string Location = "location";
    public const string DateTime = "datetime";
    public const string Duration = "duration";
    public const string ReminderText = "reminder_text";
    public const string Fact = "fact";

    public static readonly IReadOnlyList<string> All = [Location, DateTime, Duration, ReminderText, Fact];
}
