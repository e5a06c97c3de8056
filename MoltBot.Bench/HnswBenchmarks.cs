using BenchmarkDotNet.Attributes;
using MoltBot.Memory.Vectors;

namespace MoltBot.Bench;

/// <summary>
/// One HNSW query (k = 10) on isotropic Gaussian 128-d vectors at the default parameters, cycling through 1,000
/// queries that are not in the index, with and without a filter. The recall that goes with these settings, and the
/// insert rate, are reported by `memory hnsw` (HnswRecallBench). Building the 100,000-node index takes minutes, longer
/// than the in-process toolchain allows a benchmark, so the index is loaded from the snapshot that
/// `memory hnsw --n 100000 --index-cache <temp>/moltbot-hnsw-bench` writes (same data: seed 1, same generator, default
/// parameters); without it, it is built here and saved there for the next run. Then:
/// `--filter '*HnswBenchmarks*' --job short --inProcess`.
/// </summary>
[MemoryDiagnoser]
public class HnswBenchmarks
{
    private const int Dimension = 128;
    private static readonly Dictionary<int, HnswIndex> Built = new();
    private HnswIndex _index = null!;
    private float[][] _queries = null!;
    private int _next;

    [Params(10_000, 100_000)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        if (!Built.TryGetValue(N, out var index))
        {
            var p = new HnswParameters();
            string cache = Path.Combine(Path.GetTempPath(), "moltbot-hnsw-bench", $"gaussian-{N}x{Dimension}-M{p.M}-efC{p.EfConstruction}.hnsw");
            if (File.Exists(cache))
            {
                using var f = File.OpenRead(cache);
                index = HnswIndex.Load(f, 0).Index;
            }
            else
            {
                index = new HnswIndex(Dimension, p);
                for (int i = 0; i < N; i++) index.Add(i, Gaussian(rng));
                Directory.CreateDirectory(Path.GetDirectoryName(cache)!);
                using var f = File.Create(cache);
                index.Save(f, 0);
            }
            Built[N] = index; // kept for the process's lifetime: the benchmarks only read it
        }
        _index = index;
        var queryRng = new Random(2);
        _queries = Enumerable.Range(0, 1_000).Select(_ => Gaussian(queryRng)).ToArray();
    }

    [Benchmark]
    public float Search()
    {
        var hits = _index.Search(_queries[_next++ % _queries.Length], 10);
        return hits[0].Distance;
    }

    [Benchmark]
    public int SearchFiltered()
    {
        // Half the ids pass: the beam fills with passing ids only, so it explores about twice as far.
        var hits = _index.Search(_queries[_next++ % _queries.Length], 10, filter: id => (id & 1) == 0);
        return hits.Count;
    }

    private static float[] Gaussian(Random rng)
    {
        var v = new float[Dimension];
        for (int d = 0; d < Dimension; d++) v[d] = (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        return v;
    }
}
