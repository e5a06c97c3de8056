using System.Text;

namespace MoltBot.Inference.Engines;

/// <summary>
/// Byte-level BPE splits numbers into single digits ("10" → "1", "0") and rare words into pieces, so a tagger can
/// predict B- on a piece in the middle of a word and cut an entity there ("1" + "0 minutes"). An entity never
/// starts or ends inside a Latin word or a number, so before BIO decoding every word takes one label: the first
/// non-O tag among its pieces (kept as is on the first piece, B- if the first piece was O), I- on the other pieces.
/// CJK text has no word separators, so an ideograph never joins its neighbour here.
/// </summary>
public static class WordTagSmoothing
{
    /// <param name="continuesWord">True for token t (t ≥ 1) when it continues the word of token t − 1.</param>
    public static int[] Apply(IReadOnlyList<int> tagIds, IReadOnlyList<string> bioTags, Func<int, bool> continuesWord)
    {
        var result = tagIds.ToArray();
        int start = 0;
        for (int t = 1; t <= result.Length; t++)
        {
            if (t < result.Length && continuesWord(t)) continue;
            SmoothWord(result, start, t, bioTags);
            start = t;
        }
        return result;
    }

    /// <summary>Two adjacent characters with no separator between them belong to one word (letters/digits, not CJK).</summary>
    public static bool Joins(Rune left, Rune right) => IsWordRune(left) && IsWordRune(right);

    private static bool IsWordRune(Rune r) => Rune.IsLetterOrDigit(r) && !IsCjk(r);

    private static bool IsCjk(Rune r) => r.Value is >= 0x2E80 and <= 0x9FFF or >= 0xAC00 and <= 0xD7AF or >= 0xF900 and <= 0xFAFF or >= 0x20000 and <= 0x3FFFF;

    private static void SmoothWord(int[] tags, int from, int to, IReadOnlyList<string> bioTags)
    {
        if (to - from < 2) return;
        int first = -1;
        for (int i = from; i < to && first < 0; i++)
            if (bioTags[tags[i]] != "O") first = i;
        if (first < 0) return;
        string type = bioTags[tags[first]][2..];
        int b = IndexOf(bioTags, "B-" + type), inside = IndexOf(bioTags, "I-" + type);
        if (first != from || bioTags[tags[from]][2..] != type) tags[from] = b;
        for (int i = from + 1; i < to; i++) tags[i] = inside;
    }

    private static int IndexOf(IReadOnlyList<string> tags, string tag)
    {
        for (int i = 0; i < tags.Count; i++)
            if (tags[i] == tag) return i;
        throw new ArgumentException($"the model has no tag \"{tag}\"");
    }
}
