using System.Text;
using System.Text.Json;
using MoltBot.Inference.Training.Corpus;
using MoltBot.Inference.Training.Tokenization;

namespace MoltBot.Inference.Training.Nlu;

/// <summary>Where one token lies in the text, in code points: [Start, End); ContentStart skips leading whitespace.</summary>
public readonly record struct TokenSpan(int Start, int ContentStart, int End)
{
    public bool IsWhitespace => ContentStart >= End;
}

/// <summary>
/// Maps byte-level BPE token ids back to character spans of the text they came from (each id's bytes come from
/// vocab.json), so entity labels can be put on tokens and predicted tags turned back into exact spans.
/// </summary>
public sealed class TokenAligner
{
    private readonly byte[][] bytesById;

    private TokenAligner(byte[][] bytesById) => this.bytesById = bytesById;

    public static TokenAligner Load(string folder)
    {
        string vocabFile = Path.Combine(folder, "vocab.json");
        if (!File.Exists(vocabFile)) throw new FileNotFoundException($"'{vocabFile}' is missing: NLU models need a byte-level BPE tokenizer", vocabFile);
        var vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(vocabFile))
            ?? throw new InvalidDataException($"'{vocabFile}' is not a JSON object");
        var charToByte = new Dictionary<char, byte>();
        for (int b = 0; b < 256; b++) charToByte[ByteLevelAlphabet.Of((byte)b)] = (byte)b;
        var table = new byte[vocab.Values.DefaultIfEmpty(0).Max() + 1][];
        foreach (var (token, id) in vocab)
        {
            bool byteLevel = token.All(charToByte.ContainsKey) && !(token.StartsWith("<|", StringComparison.Ordinal) && token.EndsWith("|>", StringComparison.Ordinal));
            table[id] = byteLevel ? token.Select(c => charToByte[c]).ToArray() : [];
        }
        return new TokenAligner(table);
    }

    /// <summary>
    /// The span of every token (a token holding only part of a character's bytes spans that whole character);
    /// throws if the ids do not spell <paramref name="text"/> exactly.</summary>
    public TokenSpan[] Align(string text, IReadOnlyList<int> ids)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(text);
        // Code point index of every byte position (and of the end).
        var cpOfByte = new int[utf8.Length + 1];
        int cp = 0;
        for (int i = 0; i < utf8.Length; i++)
        {
            cpOfByte[i] = cp;
            if (i + 1 == utf8.Length || (utf8[i + 1] & 0xC0) != 0x80) cp++;
        }
        cpOfByte[utf8.Length] = cp;
        var runes = text.EnumerateRunes().ToArray();

        var spans = new TokenSpan[ids.Count];
        int pos = 0;
        for (int t = 0; t < ids.Count; t++)
        {
            int id = ids[t];
            byte[] b = id >= 0 && id < bytesById.Length && bytesById[id] is { } x ? x : [];
            if (pos + b.Length > utf8.Length || !utf8.AsSpan(pos, b.Length).SequenceEqual(b))
                throw new InvalidDataException($"token {id} does not match the text at byte {pos}; the tokenizer is not byte-level BPE");
            int start = cpOfByte[pos];
            int end = b.Length == 0 ? start : cpOfByte[pos + b.Length - 1] + 1;
            int content = start;
            while (content < end && Rune.IsWhiteSpace(runes[content])) content++;
            spans[t] = new TokenSpan(start, content, Math.Max(start, end));
            pos += b.Length;
        }
        if (pos != utf8.Length) throw new InvalidDataException("the tokens do not cover the whole text");
        return spans;
    }
}
