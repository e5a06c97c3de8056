using MoltBot.Contracts.Inference;
using MoltBot.Contracts.Memory;

namespace MoltBot.Dialog;

/// <summary>What goes to the generator, and what had to be left out to fit the token budget.</summary>
public sealed record ContextWindow(IReadOnlyList<ChatMessage> Messages, int TurnsUsed, int TurnsTrimmed, int MemoriesUsed, int EstimatedTokens);

/// <summary>
/// Builds the generation prompt: system prompt (+ user profile, + recalled memories, best first), the last turns,
/// then the current message, within a token budget. The system prompt and the current message always go in;
/// memories are added by score; turns are added newest first, so the oldest are the ones trimmed.
/// </summary>
public static class ContextAssembler
{
    public static ContextWindow Build(string systemPrompt, string memoriesHeader, IReadOnlyList<RecalledFact> memories,
        IReadOnlyList<Turn> turns, string current, int promptBudget)
    {
        int used = TokenEstimator.EstimateMessage(systemPrompt) + TokenEstimator.EstimateMessage(current);
        var keptMemories = new List<string>();
        int headerCost = TokenEstimator.Estimate(memoriesHeader) + 1;
        foreach (var m in memories.OrderByDescending(m => m.Score))
        {
            int cost = TokenEstimator.Estimate(m.Text) + 2 + (keptMemories.Count == 0 ? headerCost : 0);
            if (used + cost > promptBudget) continue;
            used += cost;
            keptMemories.Add(m.Text);
        }

        var keptTurns = new List<Turn>();
        for (int i = turns.Count - 1; i >= 0; i--)
        {
            int cost = TokenEstimator.EstimateMessage(turns[i].Text);
            if (used + cost > promptBudget) break;
            used += cost;
            keptTurns.Add(turns[i]);
        }
        keptTurns.Reverse();

        string system = keptMemories.Count == 0
            ? systemPrompt
            : systemPrompt + "\n" + memoriesHeader + "\n" + string.Join("\n", keptMemories.Select(m => "- " + m));
        var messages = new List<ChatMessage>(keptTurns.Count + 2) { new("system", system) };
        messages.AddRange(keptTurns.Select(t => new ChatMessage(t.Role == "user" ? "user" : "assistant", t.Text)));
        messages.Add(new ChatMessage("user", current));
        return new ContextWindow(messages, keptTurns.Count, turns.Count - keptTurns.Count, keptMemories.Count, used);
    }
}
