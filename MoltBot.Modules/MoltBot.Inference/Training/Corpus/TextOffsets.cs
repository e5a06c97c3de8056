using System.Text;

namespace MoltBot.Inference.Training.Corpus;

/// <summary>Converts between code-point offsets (the JSONL unit) and UTF-16 indexes (the .NET string unit).</summary>
public static class TextOffsets
{
    public static int CodePointLength(string text)
    {
        int n = 0;
        foreach (var _ in text.EnumerateRunes()) n++;
        return n;
    }

    /// <summary>The UTF-16 index of code point <paramref name="codePoint"/> (may equal text.Length).</summary>
    public static int ToUtf16(string text, int codePoint)
    {
        int cp = 0, i = 0;
        while (cp < codePoint && i < text.Length)
        {
            i += char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? 2 : 1;
            cp++;
        }
        if (cp != codePoint) throw new ArgumentOutOfRangeException(nameof(codePoint), $"offset {codePoint} is past the end of the text");
        return i;
    }

    /// <summary>The code-point offset of UTF-16 index <paramref name="utf16Index"/>.</summary>
    public static int ToCodePoint(string text, int utf16Index)
    {
        int cp = 0;
        for (int i = 0; i < utf16Index && i < text.Length; i++)
            if (!char.IsLowSurrogate(text[i])) cp++;
        return cp;
    }

    /// <summary>The substring between two code-point offsets.</summary>
    public static string Slice(string text, int start, int end)
    {
        int a = ToUtf16(text, start), b = ToUtf16(text, end);
        return text[a..b];
    }
}
