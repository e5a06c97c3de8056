using MoltBot.Inference.Engines;

namespace MoltBot.Tests.Inference;

public class LengthBucketsTests
{
    [Fact]
    public void Every_index_lands_in_exactly_one_bucket_sorted_by_length_within_the_row_budget()
    {
        var rng = new Random(5);
        var lengths = Enumerable.Range(0, 200).Select(_ => rng.Next(0, 40)).ToArray();
        var groups = LengthBuckets.Split(lengths, 64);
        Assert.Equal(Enumerable.Range(0, lengths.Length), groups.SelectMany(g => g).Order());
        foreach (var g in groups)
        {
            Assert.NotEmpty(g);
            Assert.Equal(g.Select(i => lengths[i]).Order(), g.Select(i => lengths[i]));
            Assert.True(g.Length * Math.Max(1, g.Max(i => lengths[i])) <= 64, $"bucket of {g.Length} × {g.Max(i => lengths[i])} rows");
        }
        // Sorted buckets: a later bucket never holds a shorter utterance than an earlier one.
        for (int k = 1; k < groups.Count; k++) Assert.True(lengths[groups[k][0]] >= lengths[groups[k - 1][^1]]);
    }

    [Fact]
    public void An_utterance_longer_than_the_budget_runs_alone_and_equal_lengths_keep_arrival_order()
    {
        int[] lengths = [3, 100, 3, 3, 5];
        var groups = LengthBuckets.Split(lengths, 10);
        Assert.Equal([[0, 2, 3], [4], [1]], groups);
        Assert.Equal([[0, 1, 2, 3, 4]], LengthBuckets.Split([1, 1, 1, 1, 1], int.MaxValue));
        Assert.Empty(LengthBuckets.Split([], 16));
        Assert.Throws<ArgumentOutOfRangeException>(() => LengthBuckets.Split([1], 0));
    }
}
