using System.Text;
using MoltBot.Contracts.Inference;
using MoltBot.Contracts.Messaging;

namespace MoltBot.Tests.Memory;

/// <summary>
/// Deterministic sentence embedder for tests: hashed bag of words and word bigrams (FNV-1a), L2-normalized.
/// Sentences sharing words get close vectors, like a (very) small sentence encoder.
/// </summary>
public sealed class HashEmbedder(int dimension = 256) : ISentenceEmbedder
{
    public int Dimension { get; } = dimension;

    public Task<float[]> EmbedAsync(string text, CancellationToken cancellationToken) => Task.FromResult(Embed(text));

    public float[] Embed(string text)
    {
        var v = new float[Dimension];
        var words = Words(text);
        for (int i = 0; i < words.Count; i++)
        {
            Bump(v, words[i], 1f);
            if (i > 0) Bump(v, words[i - 1] + " " + words[i], 0.5f);
        }
        float norm = MathF.Sqrt(v.Sum(x => x * x));
        if (norm == 0) v[0] = norm = 1;
        for (int i = 0; i < v.Length; i++) v[i] /= norm;
        return v;
    }

    private void Bump(float[] v, string token, float weight)
    {
        ulong h = ShardHash.Fnv1a64(token);
        v[(int)(h % (ulong)Dimension)] += (h >> 63) == 0 ? weight : -weight;
    }

    private static List<string> Words(string text)
    {
        var words = new List<string>();
        var sb = new StringBuilder();
        foreach (char c in text.ToLowerInvariant())
        {
            if (char.IsLetterOrDigit(c) && c < '\u3000') sb.Append(c);
            else
            {
                if (sb.Length > 0) words.Add(sb.ToString());
                sb.Clear();
                if (c >= '\u3000') words.Add(c.ToString()); // CJK: one character per token
            }
        }
        if (sb.Length > 0) words.Add(sb.ToString());
        return words;
    }
}
