using System.Globalization;
using System.Text;
using MoltBot.Contracts.Messaging;

namespace MoltBot.Inference.Models;

/// <summary>
/// The hashed features of <see cref="NgramClassifier"/> (fastText-style), computed from an utterance's text:
/// <list type="bullet">
/// <item>words: maximal runs of letters/digits (lower-cased), every CJK character on its own, every other
/// non-space character (punctuation, emoji) on its own;</item>
/// <item>word unigrams and word bigrams (so a Chinese sentence gets character unigrams and bigrams);</item>
/// <item>character 1…<c>maxCharNgram</c>-grams of each letter/digit run and of each CJK run, with boundary marks
/// ('&lt;' and '&gt;'), so an unseen spelling ("yesss", "thx") shares buckets with the seen ones and a CJK run gets
/// n-grams across its characters.</item>
/// </list>
/// Each feature string (prefixed by its kind) is hashed with 64-bit FNV-1a into one of <c>buckets</c> rows.
/// Deterministic across processes and platforms (no string.GetHashCode).
/// </summary>
public static class NgramFeatures
{
    /// <summary>The feature strings of <paramref name="text"/> (before hashing), in a stable order.</summary>
    public static List<string> Extract(string text, int maxCharNgram)
    {
        var features = new List<string>();
        var words = new List<string>();
        var runs = new List<string>(); // letter/digit runs and CJK runs: the text char n-grams are taken from
        var current = new StringBuilder();
        var cjkRun = new StringBuilder();

        void EndWord()
        {
            if (current.Length == 0) return;
            string w = current.ToString();
            words.Add(w);
            runs.Add(w);
            current.Clear();
        }
        void EndCjk()
        {
            if (cjkRun.Length == 0) return;
            runs.Add(cjkRun.ToString());
            cjkRun.Clear();
        }

        string lower = text.Normalize(NormalizationForm.FormKC).ToLowerInvariant();
        var e = StringInfo.GetTextElementEnumerator(lower);
        while (e.MoveNext())
        {
            string el = e.GetTextElement();
            int cp = char.ConvertToUtf32(el, 0);
            if (IsCjk(cp))
            {
                EndWord();
                words.Add(el);
                cjkRun.Append(el);
            }
            else if (char.IsLetterOrDigit(el, 0))
            {
                EndCjk();
                current.Append(el);
            }
            else
            {
                EndWord();
                EndCjk();
                if (!string.IsNullOrWhiteSpace(el)) words.Add(el);
            }
        }
        EndWord();
        EndCjk();

        foreach (var w in words) features.Add("w:" + w);
        for (int i = 1; i < words.Count; i++) features.Add("b:" + words[i - 1] + " " + words[i]);
        foreach (var run in runs)
        {
            // Text elements, so a surrogate pair (emoji, rare CJK) is one character.
            var chars = new List<string> { "<" };
            var re = StringInfo.GetTextElementEnumerator(run);
            while (re.MoveNext()) chars.Add(re.GetTextElement());
            chars.Add(">");
            for (int n = 1; n <= maxCharNgram; n++)
                for (int i = 0; i + n <= chars.Count; i++)
                {
                    if (n == 1 && (i == 0 || i == chars.Count - 1)) continue; // a lone boundary mark says nothing
                    features.Add("c:" + string.Concat(chars.Skip(i).Take(n)));
                }
        }
        return features;
    }

    /// <summary>The bucket of every feature of <paramref name="text"/> (possibly repeated; empty for blank text).</summary>
    public static int[] Buckets(string text, int maxCharNgram, int buckets)
    {
        var f = Extract(text, maxCharNgram);
        var result = new int[f.Count];
        for (int i = 0; i < f.Count; i++) result[i] = Bucket(f[i], buckets);
        return result;
    }

    /// <summary>64-bit FNV-1a of the UTF-8 bytes (the shard hash's, without a byte array per feature), modulo <paramref name="buckets"/>.</summary>
    public static int Bucket(string feature, int buckets) => (int)(ShardHash.Fnv1a64(feature) % (ulong)buckets);

    /// <summary>CJK ideographs (and their extensions/compatibility forms), kana and hangul: one word per character.</summary>
    internal static bool IsCjk(int cp) =>
        cp is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2FA1F or >= 0xF900 and <= 0xFAFF
            or >= 0x3040 and <= 0x30FF or >= 0xAC00 and <= 0xD7AF;
}
