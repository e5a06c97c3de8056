using MoltBot.Contracts.Inference;

namespace MoltBot.Inference.Training.Corpus;

/// <summary>
/// One labelled utterance of the NLU corpus. Entity offsets are in Unicode code points (end exclusive), the unit
/// the JSONL format uses so that files written by other tools (Python, JS) line up.
/// </summary>
public sealed record NluExample(string Text, string Lang, string Intent, IReadOnlyList<EntitySpan> Entities)
{
    /// <summary>Where the example came from ("file:line"), for error messages; empty for generated data.</summary>
    public string Source { get; init; } = "";
}
