namespace MoltBot.Inference.Engines;

/// <summary>
/// Splits a batch into forward passes of similar-length utterances. Padding every utterance of a 64-request batch to
/// its longest one wasted over half the token rows on the bundled student (1,186 padded for 535 real tokens with the
/// test corpus), and past a few hundred rows the activations no longer fit in the core's L2 cache, so each row costs
/// about twice as much (docs/performance.md, "NLU throughput"). Sorting by length and cutting the batch where the padded
/// size would exceed <c>maxTokens</c> removes most of the padding and keeps each pass cache-sized.
/// </summary>
public static class LengthBuckets
{
    /// <summary>
    /// Groups of indices into <paramref name="lengths"/>: each group sorted by length, padded size (count × longest)
    /// at most <paramref name="maxTokens"/> unless a single utterance alone is longer. Every index appears exactly once.
    /// </summary>
    public static List<int[]> Split(IReadOnlyList<int> lengths, int maxTokens)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTokens, 1);
        var order = Enumerable.Range(0, lengths.Count).OrderBy(i => lengths[i]).ToArray(); // stable: equal lengths keep arrival order
        var groups = new List<int[]>();
        int start = 0;
        for (int i = 1; i <= order.Length; i++)
        {
            // Sorted ascending, so the padded size of order[start..i] is (i − start + 1) × length of order[i].
            if (i < order.Length && (long)(i - start + 1) * Math.Max(1, lengths[order[i]]) <= maxTokens) continue;
            groups.Add(order[start..i]);
            start = i;
        }
        return groups;
    }
}
