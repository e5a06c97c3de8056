using System.ComponentModel.DataAnnotations;

namespace MoltBot.Dialog;

/// <summary>Configuration section "Dialog": context window, topic switches, confirmations, recall.</summary>
public sealed class DialogOptions : IValidatableObject
{
    public const string Section = "Dialog";

    /// <summary>Previous turns (messages) given to the generator.</summary>
    [Range(1, 20, ErrorMessage = "Dialog:ContextTurns must be between 1 and 20 (turns).")]
    public int ContextTurns { get; set; } = 5;

    /// <summary>Token budget of the whole prompt plus the reply; the oldest turns are trimmed first.</summary>
    [Range(64, 131_072, ErrorMessage = "Dialog:MaxContextTokens must be between 64 and 131072 (tokens).")]
    public int MaxContextTokens { get; set; } = 1024;

    [Range(1, 4_096, ErrorMessage = "Dialog:MaxNewTokens must be between 1 and 4096 (tokens).")]
    public int MaxNewTokens { get; set; } = 128;

    /// <summary>What happens to an unfinished request when the user changes topic: "drop" it or "resume" it afterwards.</summary>
    public string TopicSwitch { get; set; } = "resume";

    /// <summary>A new intent interrupts slot filling only at or above this NLU confidence.</summary>
    [Range(0.0, 1.0, ErrorMessage = "Dialog:TopicSwitchMinConfidence must be between 0 and 1.")]
    public double TopicSwitchMinConfidence { get; set; } = 0.6;

    /// <summary>Greetings, goodbyes and thanks at or above this NLU confidence get a fixed reply instead of generation (1 turns it off).</summary>
    [Range(0.0, 1.0, ErrorMessage = "Dialog:CannedReplyMinConfidence must be between 0 and 1.")]
    public double CannedReplyMinConfidence { get; set; } = 0.5;

    /// <summary>Intents whose skill runs only after a yes/no confirmation (comma-separated).</summary>
    public string ConfirmIntents { get; set; } = "reminder_create,reminder_cancel";

    /// <summary>Memories recalled by vector search for a generated reply.</summary>
    [Range(0, 20, ErrorMessage = "Dialog:RecallCount must be between 0 and 20.")]
    public int RecallCount { get; set; } = 3;

    /// <summary>Recalled memories below this cosine similarity are left out.</summary>
    [Range(-1.0, 1.0, ErrorMessage = "Dialog:RecallMinScore must be between -1 and 1 (cosine similarity).")]
    public double RecallMinScore { get; set; } = 0.3;

    /// <summary>Unanswered clarifications and confirmations expire after this much silence.</summary>
    [Range(1, 10_080, ErrorMessage = "Dialog:PendingTimeoutMinutes must be between 1 and 10080 (minutes).")]
    public int PendingTimeoutMinutes { get; set; } = 30;

    /// <summary>
    /// "/skill-id [words]" names the skill directly (chat-platform style commands, e.g. "/time"): NLU and the sentence
    /// embedding are skipped for such messages. An unknown command goes through NLU like any text.
    /// </summary>
    public bool SlashCommands { get; set; } = true;

    public bool ResumeAfterTopicSwitch => TopicSwitch.Equals("resume", StringComparison.OrdinalIgnoreCase);

    public IReadOnlySet<string> ConfirmIntentSet =>
        ConfirmIntents.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.OrdinalIgnoreCase);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!TopicSwitch.Equals("drop", StringComparison.OrdinalIgnoreCase) && !TopicSwitch.Equals("resume", StringComparison.OrdinalIgnoreCase))
        {
            yield return new ValidationResult($"Dialog:TopicSwitch '{TopicSwitch}' is not valid; use \"drop\" or \"resume\".", [nameof(TopicSwitch)]);
        }
        if (MaxNewTokens >= MaxContextTokens)
        {
            yield return new ValidationResult($"Dialog:MaxNewTokens ({MaxNewTokens}) must be smaller than Dialog:MaxContextTokens ({MaxContextTokens}).", [nameof(MaxNewTokens)]);
        }
    }
}
