using System.Text;
using MoltBot.Contracts.Inference;

namespace MoltBot.Inference.Engines;

/// <summary>Turns per-token BIO tags into character spans of the original text, and guesses the language.</summary>
public static class BioDecoder
{
    /// <param name="tokens">Token ids with [Start, End) character offsets in <paramref name="text"/>.</param>
    /// <param name="tagIds">Argmax tag per token (index into <paramref name="bioTags"/>).</param>
    public static IReadOnlyList<EntitySpan> Decode(string text, IReadOnlyList<(int Id, int Start, int End)> tokens, ReadOnlySpan<long> tagIds,
        IReadOnlyList<string> bioTags)
    {
        var tagList = new int[Math.Min(tokens.Count, tagIds.Length)];
        for (int i = 0; i < tagList.Length; i++) tagList[i] = (int)Math.Clamp(tagIds[i], 0, bioTags.Count - 1);
        // One label per word: a piece inside a number or word cannot start or end an entity.
        var smoothed = WordTagSmoothing.Apply(tagList, bioTags, t => ContinuesWord(text, tokens[t - 1], tokens[t]));
        var spans = new List<EntitySpan>();
        string? type = null;
        int start = 0, end = 0;
        void Close()
        {
            if (type is null) return;
            int s = Math.Clamp(start, 0, text.Length), e = Math.Clamp(end, s, text.Length);
            while (s < e && char.IsWhiteSpace(text[s])) s++; // byte-level tokens carry their leading space
            while (e > s && char.IsWhiteSpace(text[e - 1])) e--;
            if (e > s) spans.Add(new EntitySpan(type, text[s..e], s, e));
            type = null;
        }
        for (int i = 0; i < smoothed.Length; i++)
        {
            string tag = bioTags[smoothed[i]];
            // IO-style: B- right after an open entity of the same type continues it. The taggers often put B- on every
            // word ("New" + "York", "伦" + "敦"), and two same-type entities never touch in MoltBot's data.
            if (tag != "O" && type != tag[2..])
            {
                Close();
                type = tag[2..];
                start = tokens[i].Start;
                end = tokens[i].End;
            }
            else if (tag != "O")
            {
                end = Math.Max(end, tokens[i].End);
            }
            else
            {
                Close();
            }
        }
        Close();
        return spans;
    }

    /// <summary>Token <paramref name="next"/> continues <paramref name="prev"/>'s word: they share a character, or meet with no separator between two word characters.</summary>
    private static bool ContinuesWord(string text, (int Id, int Start, int End) prev, (int Id, int Start, int End) next)
    {
        if (next.Start < prev.End) return true;
        if (next.Start != prev.End || next.Start <= 0 || next.Start >= text.Length) return false;
        int before = char.IsLowSurrogate(text[next.Start - 1]) && next.Start >= 2 ? next.Start - 2 : next.Start - 1;
        return Rune.TryGetRuneAt(text, before, out var left) && Rune.TryGetRuneAt(text, next.Start, out var right) && WordTagSmoothing.Joins(left, right);
    }

    /// <summary>"zh" when the text contains CJK ideographs, else "en".</summary>
    public static string Language(string text) =>
        text.Any(c => c is >= '\u4e00' and <= '\u9fff' or >= '\u3400' and <= '\u4dbf') ? "zh" : "en";
}
