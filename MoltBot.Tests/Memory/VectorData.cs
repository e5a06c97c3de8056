using MoltBot.Memory.Vectors;

namespace MoltBot.Tests.Memory;

/// <summary>Test data for the HNSW index and the exact (brute-force) answers to compare against.</summary>
public static class VectorData
{
    public static float[][] RandomGaussian(int count, int dim, int seed)
    {
        var rng = new Random(seed);
        var result = new float[count][];
        for (int i = 0; i < count; i++)
        {
            var v = new float[dim];
            for (int d = 0; d < dim; d++)
            {
                // Box-Muller: isotropic Gaussian, the hardest case for approximate search (no cluster structure).
                double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
                v[d] = (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
            }
            result[i] = v;
        }
        return result;
    }

    private static readonly string[] Subjects = ["my sister", "the dentist", "our team", "the landlord", "my boss", "the kids", "grandma", "the plumber", "my friend Li", "the neighbours", "our cat", "the doctor"];
    private static readonly string[] Verbs = ["wants to meet", "called about", "asked me about", "is worried about", "forgot", "reminded me of", "will bring", "cancelled", "moved", "paid for"];
    private static readonly string[] Objects = ["the rent", "dinner on friday", "the birthday party", "a new laptop", "the train tickets", "the garden", "my car keys", "the concert", "the vacation in spain", "the school trip", "the broken heater", "the wedding", "the project deadline", "a lunch next week"];
    private static readonly string[] Tails = ["", "tomorrow", "again", "at noon", "in the evening", "next month", "before noon", "after work"];

    /// <summary>Sentences from a small grammar, embedded with <see cref="HashEmbedder"/>: clustered, sentence-like vectors.</summary>
    public static (string[] Texts, float[][] Vectors) Sentences(int count, int seed, HashEmbedder embedder)
    {
        var rng = new Random(seed);
        var texts = new string[count];
        var vectors = new float[count][];
        for (int i = 0; i < count; i++)
        {
            texts[i] = $"{Subjects[rng.Next(Subjects.Length)]} {Verbs[rng.Next(Verbs.Length)]} {Objects[rng.Next(Objects.Length)]} {Tails[rng.Next(Tails.Length)]} #{rng.Next(1000)}".Trim();
            vectors[i] = embedder.Embed(texts[i]);
        }
        return (texts, vectors);
    }

    /// <summary>Exact k nearest by cosine distance.</summary>
    public static long[] BruteForce(float[][] data, float[] query, int k, Func<long, bool>? include = null)
    {
        var q = VectorMath.Normalized(query);
        var norms = data.Select(v => MathF.Sqrt(VectorMath.Dot(v, v))).ToArray();
        return Enumerable.Range(0, data.Length)
            .Where(i => include is null || include(i))
            .Select(i => (Id: (long)i, D: 1f - VectorMath.Dot(q, data[i]) / norms[i]))
            .OrderBy(x => x.D).ThenBy(x => x.Id).Take(k).Select(x => x.Id).ToArray();
    }

    public static double RecallAt(HnswIndex index, float[][] data, float[][] queries, int k, int ef, Func<long, bool>? include = null)
    {
        int hit = 0, total = 0;
        foreach (var q in queries)
        {
            var exact = BruteForce(data, q, k, include).ToHashSet();
            var found = index.Search(q, k, ef).Select(h => h.Id);
            hit += found.Count(exact.Contains);
            total += exact.Count;
        }
        return (double)hit / total;
    }
}
