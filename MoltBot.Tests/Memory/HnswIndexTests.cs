using MoltBot.Memory.Vectors;

namespace MoltBot.Tests.Memory;

public class HnswIndexTests
{
    private static HnswIndex Build(float[][] data, HnswParameters p)
    {
        var index = new HnswIndex(data[0].Length, p);
        for (int i = 0; i < data.Length; i++) index.Add(i, data[i]);
        return index;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // 4-bit walk, float re-rank
    public void Recall_at_10_on_5000_random_128d_vectors_is_at_least_095(bool quantizedWalk)
    {
        // Isotropic random vectors are the hardest case; 100,000 of them are measured in MoltBot.Bench (memory hnsw).
        var data = VectorData.RandomGaussian(5_000, 128, seed: 1);
        var queries = VectorData.RandomGaussian(100, 128, seed: 2);
        using var index = Build(data, new HnswParameters(M: 24, EfConstruction: 200, EfSearch: 300, QuantizedWalk: quantizedWalk));

        double recall = VectorData.RecallAt(index, data, queries, k: 10, ef: 300);

        Assert.True(recall >= 0.95, $"recall@10 = {recall:F3}");
        Assert.Equal(5_000, index.Count);
    }

    [Fact]
    public void Recall_at_10_on_sentence_embeddings_is_at_least_095()
    {
        var embedder = new HashEmbedder(256);
        var (_, data) = VectorData.Sentences(8_000, seed: 3, embedder);
        var (_, queries) = VectorData.Sentences(100, seed: 4, embedder);
        using var index = Build(data, new HnswParameters(M: 16, EfConstruction: 200, EfSearch: 100));

        double recall = VectorData.RecallAt(index, data, queries, k: 10, ef: 100);

        Assert.True(recall >= 0.95, $"recall@10 = {recall:F3}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Growing_past_2048_nodes_adds_a_block_instead_of_copying_into_arrays_twice_the_size(bool quantizedWalk)
    {
        // A doubling layout allocates room for 4,096 nodes when the 2,049th arrives (and leaves the 2,048-node arrays
        // dead on the large-object heap); blocks add room for 1,024.
        const int n = 2_100, dimension = 32, m = 8;
        var data = VectorData.RandomGaussian(n, dimension, seed: 21);
        using var index = new HnswIndex(dimension, new HnswParameters(M: m, EfConstruction: 80, EfSearch: 80, QuantizedWalk: quantizedWalk));
        for (int i = 0; i < 2_048; i++) index.Add(i, data[i]);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 2_048; i < n; i++) index.Add(i, data[i]);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        int codeBytes = quantizedWalk ? NibbleQuantizer.CodeBytesFor(dimension) : 0;
        long perNode = dimension * sizeof(float) + (2 * m + 1) * sizeof(int) + codeBytes;
        Assert.True(allocated < 2_048 * perNode, $"{allocated:N0} bytes allocated for {n - 2_048} nodes ({perNode} bytes of vector, links and code a node)");
        foreach (int i in new[] { 0, 15, 16, 1_023, 1_024, 2_047, 2_048, n - 1 })
        {
            Assert.Equal(i, index.Search(data[i], 1)[0].Id);
            Assert.Equal(VectorMath.Normalized(data[i]), index.GetVector(i));
        }
    }

    [Fact]
    public void A_vector_finds_itself_first()
    {
        var data = VectorData.RandomGaussian(2_000, 32, seed: 5);
        using var index = Build(data, new HnswParameters(M: 8, EfConstruction: 100, EfSearch: 50));
        int found = Enumerable.Range(0, 200).Count(i => index.Search(data[i], 1)[0].Id == i);
        Assert.True(found >= 198, $"{found}/200 found themselves");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Insert_delete_persist_reload_round_trip(bool quantizedWalk)
    {
        var data = VectorData.RandomGaussian(3_000, 64, seed: 6);
        var queries = VectorData.RandomGaussian(50, 64, seed: 7);
        using var index = Build(data, new HnswParameters(M: 12, EfConstruction: 150, EfSearch: 100, QuantizedWalk: quantizedWalk));
        var deleted = Enumerable.Range(0, data.Length).Where(i => i % 3 == 0).Select(i => (long)i).ToHashSet();
        foreach (long id in deleted) Assert.True(index.Remove(id));
        Assert.False(index.Remove(0));
        Assert.Equal(data.Length - deleted.Count, index.Count);

        // Search never returns a deleted vector, and still finds the exact neighbours among the live ones.
        foreach (var q in queries) Assert.DoesNotContain(index.Search(q, 20), h => deleted.Contains(h.Id));
        double recall = RecallLive(index, data, queries, deleted);
        Assert.True(recall >= 0.95, $"recall after deletions = {recall:F3}");

        using var file = new MemoryStream();
        index.Save(file, mark: 4242);
        file.Position = 0;
        var (reloaded, mark) = HnswIndex.Load(file, efSearch: 100);
        using var _ = reloaded;

        Assert.Equal(4242, mark);
        Assert.Equal(quantizedWalk, reloaded.Parameters.QuantizedWalk);
        Assert.Equal(index.Count, reloaded.Count);
        Assert.All(deleted, id => Assert.False(reloaded.Contains(id)));
        foreach (var q in queries)
        {
            Assert.Equal(index.Search(q, 10).Select(h => h.Id), reloaded.Search(q, 10).Select(h => h.Id));
        }

        // The reloaded index keeps accepting inserts and deletes.
        reloaded.Add(100_000, data[0]);
        Assert.Equal(100_000, reloaded.Search(data[0], 1)[0].Id);
        Assert.True(reloaded.Remove(100_000));
        Assert.Null(reloaded.GetVector(100_000));
    }

    [Fact]
    public void The_walk_codes_follow_the_data_when_its_distribution_moves()
    {
        // The 4-bit ranges are learned from the first vectors and relearned as the index grows: the first 300 are
        // near-copies of one direction (a tiny range), the 3,000 after them spread out; with the first ranges kept,
        // every later component would clamp to the end levels.
        var first = VectorData.RandomGaussian(300, 64, seed: 40).Select(v => v.Select(x => 3f + 0.02f * x).ToArray()).ToArray();
        var later = VectorData.RandomGaussian(3_000, 64, seed: 41);
        var data = first.Concat(later).ToArray();
        var queries = VectorData.RandomGaussian(60, 64, seed: 42);
        using var index = Build(data, new HnswParameters(M: 12, EfConstruction: 150, EfSearch: 80, QuantizedWalk: true));
        using var floats = Build(data, new HnswParameters(M: 12, EfConstruction: 150, EfSearch: 80));

        double recall = VectorData.RecallAt(index, data, queries, k: 10, ef: 80);
        double reference = VectorData.RecallAt(floats, data, queries, k: 10, ef: 80); // same graph, float walk

        Assert.True(recall >= 0.8 && recall >= reference - 0.06, $"recall@10 = {recall:F3} (float walk {reference:F3})");
    }

    [Fact]
    public void A_version_1_snapshot_without_code_statistics_still_loads()
    {
        var data = VectorData.RandomGaussian(1_500, 32, seed: 43);
        var queries = VectorData.RandomGaussian(40, 32, seed: 44);
        using var index = Build(data, new HnswParameters(M: 8, EfConstruction: 100, EfSearch: 60, QuantizedWalk: true));
        using var file = new MemoryStream();
        index.Save(file, mark: 7);

        // Version 1 is version 2 without the block after the 52-byte header (walk flag, has-statistics flag,
        // trainedOn, centre[], step[]).
        const int header = 52;
        var v2 = file.ToArray().AsSpan(0, (int)file.Length - 8).ToArray();
        var v1 = v2[..header].Concat(v2[(header + 4 + 4 + 4 + 2 * 32 * 4)..]).ToArray();
        BitConverter.GetBytes(1).CopyTo(v1, 8);
        ulong hash = 14695981039346656037UL;
        foreach (byte b in v1) hash = (hash ^ b) * 1099511628211UL;
        using var old = new MemoryStream(v1.Concat(BitConverter.GetBytes(hash)).ToArray());

        var (reloaded, mark) = HnswIndex.Load(old, efSearch: 60, quantizedWalk: true);
        using var _ = reloaded;

        Assert.Equal(7, mark);
        Assert.True(reloaded.Parameters.QuantizedWalk);
        Assert.Equal(index.Count, reloaded.Count);
        double recall = VectorData.RecallAt(reloaded, data, queries, k: 10, ef: 60);
        Assert.True(recall >= 0.95, $"recall@10 after loading a version 1 snapshot = {recall:F3}");
        var unknown = (byte[])v1.Clone();
        BitConverter.GetBytes(3).CopyTo(unknown, 8);
        hash = 14695981039346656037UL;
        foreach (byte b in unknown) hash = (hash ^ b) * 1099511628211UL;
        var ex = Assert.Throws<InvalidDataException>(() => HnswIndex.Load(new MemoryStream(unknown.Concat(BitConverter.GetBytes(hash)).ToArray()), 0));
        Assert.Contains("version 3", ex.Message);
    }

    [Fact]
    public void Deleting_most_nodes_including_the_entry_point_keeps_the_graph_searchable()
    {
        var data = VectorData.RandomGaussian(2_000, 32, seed: 8);
        var queries = VectorData.RandomGaussian(50, 32, seed: 9);
        using var index = Build(data, new HnswParameters(M: 12, EfConstruction: 150, EfSearch: 100));
        var deleted = Enumerable.Range(0, data.Length).Where(i => i % 10 != 0).Select(i => (long)i).ToHashSet();
        foreach (long id in deleted) index.Remove(id);

        Assert.Equal(200, index.Count);
        double recall = RecallLive(index, data, queries, deleted);
        Assert.True(recall >= 0.95, $"recall after deleting 90% = {recall:F3}");

        foreach (long id in index.Ids().ToList()) index.Remove(id);
        Assert.Equal(0, index.Count);
        Assert.Empty(index.Search(data[0], 5));
    }

    [Fact]
    public void A_filter_limits_results_without_losing_exact_neighbours()
    {
        var data = VectorData.RandomGaussian(3_000, 32, seed: 10);
        var queries = VectorData.RandomGaussian(30, 32, seed: 11);
        using var index = Build(data, new HnswParameters(M: 12, EfConstruction: 150, EfSearch: 100));
        Func<long, bool> odd = id => id % 7 == 3;
        int hit = 0, total = 0;
        foreach (var q in queries)
        {
            var found = index.Search(q, 10, filter: odd);
            Assert.All(found, h => Assert.True(odd(h.Id)));
            var exact = VectorData.BruteForce(data, q, 10, odd).ToHashSet();
            hit += found.Count(h => exact.Contains(h.Id));
            total += exact.Count;
        }
        Assert.True((double)hit / total >= 0.95, $"filtered recall = {(double)hit / total:F3}");
    }

    [Fact]
    public void A_damaged_snapshot_is_rejected()
    {
        using var index = Build(VectorData.RandomGaussian(100, 16, seed: 12), new HnswParameters(M: 8));
        using var file = new MemoryStream();
        index.Save(file, 0);
        var bytes = file.ToArray();
        bytes[bytes.Length / 2] ^= 0x5A;

        Assert.Throws<InvalidDataException>(() => HnswIndex.Load(new MemoryStream(bytes), 0));
        Assert.Throws<InvalidDataException>(() => HnswIndex.Load(new MemoryStream(bytes[..(bytes.Length / 3)]), 0));
    }

    [Fact]
    public void Wrong_dimensions_and_zero_vectors_are_refused()
    {
        using var index = new HnswIndex(8, new HnswParameters());
        Assert.Throws<ArgumentException>(() => index.Add(1, new float[7]));
        Assert.Throws<ArgumentException>(() => index.Add(1, new float[8]));
        Assert.Throws<ArgumentException>(() => index.Search(new float[9], 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new HnswIndex(8, new HnswParameters(M: 1)));
    }

    [Fact]
    public void Hits_carry_exact_float_distances_in_ascending_order_after_the_4bit_walk()
    {
        var data = VectorData.RandomGaussian(3_000, 48, seed: 16);
        var queries = VectorData.RandomGaussian(40, 48, seed: 17);
        using var index = Build(data, new HnswParameters(M: 12, EfConstruction: 100, EfSearch: 80, QuantizedWalk: true));
        foreach (var q in queries)
        {
            var hits = index.Search(q, 10);
            Assert.Equal(10, hits.Count);
            var qn = VectorMath.Normalized(q);
            foreach (var h in hits) Assert.Equal(1f - VectorMath.Dot(qn, index.GetVector(h.Id)), h.Distance);
            for (int i = 1; i < hits.Count; i++) Assert.True(hits[i - 1].Distance <= hits[i].Distance);
        }
    }

    [Fact]
    public void Levels_follow_the_exponential_distribution_of_the_paper()
    {
        // mL = 1/ln M: P(level >= l) = M^-l. With M = 4 and 20,000 nodes: ≈ 5,000 reach level 1, ≈ 1,250 level 2.
        var data = VectorData.RandomGaussian(20_000, 4, seed: 13);
        using var index = Build(data, new HnswParameters(M: 4, EfConstruction: 8, EfSearch: 8));
        var levels = Enumerable.Range(0, data.Length).Select(i => index.LevelOf(i)).ToArray();

        double atLeast1 = levels.Count(l => l >= 1) / (double)levels.Length, atLeast2 = levels.Count(l => l >= 2) / (double)levels.Length;
        Assert.InRange(atLeast1, 0.25 - 0.02, 0.25 + 0.02);
        Assert.InRange(atLeast2, 0.0625 - 0.012, 0.0625 + 0.012);
        Assert.Equal(-1, index.LevelOf(123_456));
    }

    [Fact]
    public void The_graph_stays_sound_through_inserts_replacements_and_deletes()
    {
        var data = VectorData.RandomGaussian(3_000, 24, seed: 14);
        using var index = Build(data, new HnswParameters(M: 6, EfConstruction: 60, EfSearch: 60));
        Assert.Empty(index.CheckInvariants());

        for (int i = 0; i < 500; i++) index.Add(i, data[data.Length - 1 - i]); // replace: remove + insert
        for (int i = 500; i < 2_000; i += 2) index.Remove(i);
        Assert.Empty(index.CheckInvariants());
        Assert.Equal(3_000 - 750, index.Count);
        // Id 7 now holds the same vector as id 2,992: both come first, and nothing deleted comes back.
        Assert.Equal(new long[] { 7, 2_992 }, index.Search(data[2_992], 2).Select(h => h.Id).Order());
        Assert.Equal(VectorMath.Normalized(data[2_992]), index.GetVector(7));
        Assert.DoesNotContain(index.Search(data[600], 50), h => h.Id is >= 500 and < 2_000 && h.Id % 2 == 0);
    }

    [Fact]
    public async Task Concurrent_searches_during_inserts_and_deletes_see_a_consistent_graph()
    {
        var data = VectorData.RandomGaussian(4_000, 32, seed: 15);
        using var index = Build(data[..2_000], new HnswParameters(M: 8, EfConstruction: 80, EfSearch: 50, QuantizedWalk: true));
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        int searches = 0;
        var readers = Enumerable.Range(0, 3).Select(r => Task.Run(() =>
        {
            var rng = new Random(r);
            while (!stop.IsCancellationRequested)
            {
                var hits = index.Search(data[rng.Next(data.Length)], 10);
                Assert.InRange(hits.Count, 1, 10);
                for (int i = 1; i < hits.Count; i++) Assert.True(hits[i - 1].Distance <= hits[i].Distance);
                Interlocked.Increment(ref searches);
            }
        })).ToArray();

        // On a busy machine the readers may start late: let them be searching before the writes begin.
        while (Volatile.Read(ref searches) == 0 && !stop.IsCancellationRequested) await Task.Delay(5);
        for (int i = 2_000; i < data.Length; i++)
        {
            index.Add(i, data[i]);
            if (i % 4 == 0) Assert.True(index.Remove(i - 2_000));
        }
        await stop.CancelAsync();
        await Task.WhenAll(readers);

        Assert.True(searches > 0);
        Assert.Equal(4_000 - 500, index.Count);
        Assert.Empty(index.CheckInvariants());
        Assert.Equal(3_001, index.Search(data[3_001], 1)[0].Id);
    }

    private static double RecallLive(HnswIndex index, float[][] data, float[][] queries, HashSet<long> deleted) =>
        VectorData.RecallAt(index, data, queries, 10, index.Parameters.EfSearch, id => !deleted.Contains(id));
}
