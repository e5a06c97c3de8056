namespace MoltBot.Skills;

/// <summary>
/// Case-insensitive phrase search. Latin-script phrases must stand as whole words ("time" does not match
/// "sometimes"); CJK phrases match as substrings, since Chinese is written without spaces.
/// </summary>
internal static class TextMatch
{
    public static bool Contains(string text, string phrase) => Occurrences(text, phrase).Any();

    public static IEnumerable<int> Occurrences(string text, string phrase)
    {
        if (string.IsNullOrEmpty(phrase) || string.IsNullOrEmpty(text)) yield break;
        int from = 0;
        while (from <= text.Length - phrase.Length)
        {
            int at = text.IndexOf(phrase, from, StringComparison.OrdinalIgnoreCase);
            if (at < 0) yield break;
            if (IsWholeWord(text, at, phrase.Length, phrase)) yield return at;
            from = at + 1;
        }
    }

    private static bool IsWholeWord(string text, int at, int length, string phrase)
    {
        bool startsLatin = IsWordChar(phrase[0]);
        bool endsLatin = IsWordChar(phrase[^1]);
        if (startsLatin && at > 0 && IsWordChar(text[at - 1])) return false;
        if (endsLatin && at + length < text.Length && IsWordChar(text[at + length])) return false;
        return true;
    }

    /// <summary>A letter or digit of a space-separated script (not CJK).</summary>
    private static bool IsWordChar(char c) => char.IsLetterOrDigit(c) && !IsCjk(c);

    public static bool IsCjk(char c) => c is >= '\u3040' and <= '\u30ff' or >= '\u3400' and <= '\u9fff' or >= '\uf900' and <= '\ufaff';

    /// <summary>Normalizes curly apostrophes and full-width punctuation so phrase tables stay small.</summary>
    public static string Normalize(string text) =>
        text.Replace('’', '\'').Replace('‘', '\'').Replace('？', '?').Replace('，', ',').Replace('。', '.').Replace('：', ':').Replace('！', '!').Trim();
}
