using System.Text;
using MoltBot.Contracts.Inference;
using MoltBot.Inference.Training.Corpus;

namespace MoltBot.Inference.Training.Nlu;

/// <summary>
/// BIO tags on tokens from entity spans, and entity spans back from predicted tags. A token belongs to an entity
/// when its content (leading whitespace excluded) overlaps it; a whitespace-only token inside an entity is I-.
/// </summary>
public static class BioCodec
{
    public static int[] Encode(IReadOnlyList<TokenSpan> tokens, IReadOnlyList<EntitySpan> entities, IReadOnlyList<string> bioTags)
    {
        var tags = new int[tokens.Count];
        foreach (var e in entities)
        {
            int b = IndexOf(bioTags, "B-" + e.Type), i = IndexOf(bioTags, "I-" + e.Type);
            bool first = true;
            for (int t = 0; t < tokens.Count; t++)
            {
                var s = tokens[t];
                bool inside = s.IsWhitespace
                    ? !first && s.Start >= e.Start && s.End <= e.End
                    : s.ContentStart < e.End && s.End > e.Start;
                if (!inside) continue;
                tags[t] = first ? b : i;
                first = false;
            }
        }
        return tags;
    }

    public static List<EntitySpan> Decode(string text, IReadOnlyList<TokenSpan> tokens, IReadOnlyList<int> tagIds, IReadOnlyList<string> bioTags)
    {
        var runes = text.EnumerateRunes().ToArray();
        var tags = tagIds.Take(tokens.Count).ToArray();
        // One label per word, as in serving (BioDecoder): a piece inside a number or word cannot start or end an entity.
        tags = Engines.WordTagSmoothing.Apply(tags, bioTags, t => ContinuesWord(runes, tokens[t - 1], tokens[t]));
        var result = new List<EntitySpan>();
        string? type = null;
        int start = 0, end = 0;
        void Close()
        {
            if (type is null) return;
            while (end > start && Rune.IsWhiteSpace(runes[end - 1])) end--;
            if (end > start) result.Add(new EntitySpan(type, TextOffsets.Slice(text, start, end), start, end));
            type = null;
        }
        for (int t = 0; t < tags.Length; t++)
        {
            string tag = bioTags[tags[t]];
            var s = tokens[t];
            if (tag == "O")
            {
                Close();
                continue;
            }
            string tagType = tag[2..];
            // IO-style, as in serving (BioDecoder): B- right after an open entity of the same type continues it.
            bool begins = type != tagType;
            if (begins)
            {
                Close();
                if (s.IsWhitespace) continue;
                type = tagType;
                start = s.ContentStart;
            }
            end = s.End;
        }
        Close();
        return result;
    }

    private static bool ContinuesWord(Rune[] runes, TokenSpan prev, TokenSpan next)
    {
        if (next.Start < prev.End) return true; // two pieces of one character's bytes
        return next.Start == prev.End && next.ContentStart == next.Start && next.Start > 0 && next.Start < runes.Length
            && Engines.WordTagSmoothing.Joins(runes[next.Start - 1], runes[next.Start]);
    }

    private static int IndexOf(IReadOnlyList<string> tags, string tag)
    {
        for (int i = 0; i < tags.Count; i++)
            if (tags[i] == tag) return i;
        throw new ArgumentException($"the model has no tag \"{tag}\"");
    }
}
