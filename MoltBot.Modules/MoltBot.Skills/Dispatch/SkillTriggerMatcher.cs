using System.Text.RegularExpressions;
using MoltBot.Contracts.Skills;

namespace MoltBot.Skills.Dispatch;

/// <summary>A skill's triggers, prepared once: intents as a set, keywords as-is, patterns compiled with a match timeout.</summary>
internal sealed class SkillTriggerMatcher
{
    // A pathological pattern from a plugin must not stall a shard worker.
    private static readonly TimeSpan RegexBudget = TimeSpan.FromMilliseconds(100);

    private readonly HashSet<string> _intents;
    private readonly string[] _keywords;
    private readonly Regex[] _patterns;

    /// <summary>Throws <see cref="ArgumentException"/> naming the pattern when one does not compile.</summary>
    public SkillTriggerMatcher(SkillTriggers triggers)
    {
        _intents = new HashSet<string>(triggers.Intents.Where(i => !string.IsNullOrWhiteSpace(i)), StringComparer.OrdinalIgnoreCase);
        _keywords = triggers.Keywords.Where(k => !string.IsNullOrWhiteSpace(k)).Select(k => TextMatch.Normalize(k)).ToArray();
        _patterns = triggers.Patterns.Select(Compile).ToArray();
    }

    private static Regex Compile(string pattern)
    {
        try
        {
            return new Regex(pattern, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, RegexBudget);
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"trigger pattern '{pattern}' is not a valid .NET regular expression: {ex.Message}", ex);
        }
    }

    public bool MatchesIntent(string intent) => _intents.Contains(intent);

    /// <summary>Length of the longest keyword found in the text (0: none). Longer keywords are more specific.</summary>
    public int LongestKeyword(string normalizedText)
    {
        int best = 0;
        foreach (var k in _keywords)
        {
            if (k.Length > best && TextMatch.Contains(normalizedText, k)) best = k.Length;
        }
        return best;
    }

    public bool MatchesPattern(string text)
    {
        foreach (var p in _patterns)
        {
            try
            {
                if (p.IsMatch(text)) return true;
            }
            catch (RegexMatchTimeoutException)
            {
                // Too slow counts as no match; the skill can still be reached by intent or keyword.
            }
        }
        return false;
    }
}
