using System.Globalization;
using System.Text;

namespace MoltBot.Inference.Training.Nlu;

/// <summary>A pre-training sentence: token ids and, per token, the index of the word it belongs to.</summary>
public sealed record MlmExample(int[] Ids, int[] Words);

/// <summary>
/// BERT-style masking for `pretrain nlu`: whole words are chosen until ≈ <c>rate</c> of the tokens are selected (at least
/// one); each selected token becomes the mask token (80 %), a random ordinary token (10 %) or stays (10 %), and is a
/// prediction target. A "word" is a run of letters/digits after whitespace; every CJK character, punctuation mark or
/// symbol is a word of its own; a token holding part of a character's bytes stays with that character.
/// </summary>
public static class MlmMasking
{
    public const int Ignore = -100;

    /// <summary>The word index of each token, from its character span.</summary>
    public static int[] WordsOf(string text, IReadOnlyList<TokenSpan> spans)
    {
        var runes = text.EnumerateRunes().ToArray();
        var words = new int[spans.Count];
        int word = -1;
        for (int t = 0; t < spans.Count; t++)
        {
            var s = spans[t];
            bool sameChar = t > 0 && s.Start < spans[t - 1].End;     // continues a character split over tokens
            bool startsWord = t == 0 || (!sameChar && (s.ContentStart > s.Start || !Wordy(runes, s.ContentStart) || !Wordy(runes, spans[t - 1].End - 1)
                || IsCjk(runes, s.ContentStart)));
            if (startsWord) word++;
            words[t] = Math.Max(word, 0);
        }
        return words;
    }

    private static bool Wordy(Rune[] runes, int i) =>
        i >= 0 && i < runes.Length && (Rune.IsLetterOrDigit(runes[i]) || Rune.GetUnicodeCategory(runes[i]) == UnicodeCategory.NonSpacingMark) && !IsCjk(runes, i);

    private static bool IsCjk(Rune[] runes, int i)
    {
        if (i < 0 || i >= runes.Length) return false;
        int v = runes[i].Value;
        return v is >= 0x3400 and <= 0x9FFF or >= 0xF900 and <= 0xFAFF or >= 0x20000 and <= 0x2FFFF or >= 0x3040 and <= 0x30FF;
    }

    /// <summary>
    /// The masked input and the targets (<see cref="Ignore"/> where nothing is predicted) of one sentence.
    /// <paramref name="randomIds"/> are the ids a replaced token may become (no special tokens).
    /// </summary>
    public static (int[] Input, int[] Targets) Mask(MlmExample e, double rate, int maskId, IReadOnlyList<int> randomIds, Random rng)
    {
        int n = e.Ids.Length;
        var input = (int[])e.Ids.Clone();
        var targets = new int[n];
        Array.Fill(targets, Ignore);
        if (n == 0) return (input, targets);
        int wordCount = e.Words[n - 1] + 1;
        var order = Enumerable.Range(0, wordCount).OrderBy(_ => rng.Next()).ToArray();
        int want = Math.Max(1, (int)Math.Round(n * rate)), chosen = 0;
        var pick = new bool[wordCount];
        foreach (int w in order)
        {
            if (chosen >= want) break;
            pick[w] = true;
            chosen += e.Words.Count(x => x == w);
        }
        for (int t = 0; t < n; t++)
        {
            if (!pick[e.Words[t]]) continue;
            targets[t] = e.Ids[t];
            double r = rng.NextDouble();
            input[t] = r < 0.8 ? maskId : r < 0.9 ? randomIds[rng.Next(randomIds.Count)] : e.Ids[t];
        }
        return (input, targets);
    }
}
