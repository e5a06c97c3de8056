using MoltBot.Contracts.Inference;

namespace MoltBot.Inference.Training.Corpus;

/// <summary>One multi-turn conversation of the generation corpus (alternating user / assistant messages).</summary>
public sealed record Dialog(string Lang, IReadOnlyList<ChatMessage> Messages)
{
    public string Source { get; init; } = "";
}
