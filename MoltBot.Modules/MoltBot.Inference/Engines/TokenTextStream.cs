using MoltBot.Inference.Tokenization;

namespace MoltBot.Inference.Engines;

/// <summary>
/// Turns generated token ids into text deltas: decodes the whole reply each time and emits what is new, holding back
/// an incomplete UTF-8 sequence (U+FFFD at the end) and any tail that could still become a stop string.
/// </summary>
internal sealed class TokenTextStream(TextTokenizer tokenizer, IReadOnlyList<string> stops)
{
    private readonly List<int> ids = [];
    private int emitted;

    public string Text { get; private set; } = "";

    /// <summary>Adds a token; returns the new text to emit and whether a stop string was reached.</summary>
    public (string Delta, bool Stopped) Add(int id)
    {
        ids.Add(id);
        Text = tokenizer.Decode(ids);
        foreach (var stop in stops)
        {
            int at = Text.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0)
            {
                Text = Text[..at];
                return (Take(Text.Length), true);
            }
        }
        int safe = Text.Length;
        if (safe > 0 && Text[safe - 1] == '\uFFFD') safe--;
        foreach (var stop in stops)
            for (int k = Math.Min(stop.Length - 1, safe - emitted); k > 0; k--)
                if (string.CompareOrdinal(Text, safe - k, stop, 0, k) == 0)
                {
                    safe -= k;
                    break;
                }
        return (Take(safe), false);
    }

    /// <summary>Whatever was held back, at the end of the reply.</summary>
    public string Flush() => Take(Text.Length);

    private string Take(int upTo)
    {
        if (upTo <= emitted) return "";
        string d = Text[emitted..upTo];
        emitted = upTo;
        return d;
    }
}
