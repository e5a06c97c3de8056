using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using HdrHistogram;
using MoltBot.Inference.Engines;
using MoltBot.Inference.Kernels;
using MoltBot.Inference.Models;
using MoltBot.Inference.Training.Corpus;
using MoltBot.Memory.Vectors;
using TorchSharp;

namespace MoltBot.Bench;

/// <summary>
/// HNSW recall and latency report (`memory hnsw` and `memory hnsw-sentences`): builds an index, then for each ef in
/// the sweep measures single-query latency (p50/p99 wall clock, and process CPU per query, which a loaded machine
/// inflates less) and recall@k against exact brute force. Results go to the console and bench-results/.
/// </summary>
public static class HnswRecallBench
{
    public sealed record Settings(int M, int EfConstruction, int[] EfSweep, int Queries, int RecallQueries, int K, string? IndexCache, string OutDir, bool QuantizedWalk = false);

    public sealed record EfResult(int Ef, double P50Ms, double P99Ms, double CpuMsPerQuery, double Recall);

    public sealed record Report(string Dataset, int N, int Dim, int M, int EfConstruction, bool QuantizedWalk, double BuildSeconds, double InsertsPerSecond,
        bool BuiltNow, int Queries, int RecallQueries, int K, string LoadAverage, IReadOnlyList<EfResult> Results);

    /// <summary>n isotropic Gaussian vectors (Box-Muller, seed 1), as the issue asks; queries are drawn the same way.</summary>
    public static void RandomGaussian(int n, int dim, Settings s)
    {
        var rng = new Random(1);
        float[][] Gen(int count) => Enumerable.Range(0, count).Select(_ =>
            Enumerable.Range(0, dim).Select(_ => (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()))).ToArray()).ToArray();
        var data = Gen(n);
        var queries = Gen(s.Queries);
        Run($"gaussian-{n}x{dim}", data, queries, s);
    }

    /// <summary>
    /// Sentence embeddings from a bundled NLU encoder (pooled, 128-d) over the NLU corpus (train/dev/test), the dialog
    /// corpus turns and, with fills &gt; 0, more sentences expanded from the NLU templates. Queries are held out:
    /// a random share of the sentences is never inserted.
    /// </summary>
    public static void Sentences(string repo, string model, int fills, int maxSentences, Settings s)
    {
        torch.set_num_threads(1);
        var texts = CorpusSentences(repo, fills);
        var shuffle = new Random(7);
        texts = texts.OrderBy(_ => shuffle.Next()).Take(maxSentences + s.Queries).ToList();
        var choice = Int8KernelSelector.Select("auto");
        using var nlu = ModelFolder.LoadNlu(Path.Combine(repo, "models", model), choice.Kernel);
        var sw = Stopwatch.StartNew();
        var vectors = new List<float[]>(texts.Count);
        for (int i = 0; i < texts.Count; i += 64)
        {
            foreach (var r in NluEngine.Run(nlu, texts.GetRange(i, Math.Min(64, texts.Count - i)))) vectors.Add(r.Embedding!);
        }
        Console.WriteLine($"embedded {texts.Count} distinct sentences with {model} ({nlu.Config.EmbeddingSize}-d) in {sw.Elapsed.TotalSeconds:F1} s");
        var queries = vectors.Take(s.Queries).ToArray();
        var data = vectors.Skip(s.Queries).ToArray();
        Run($"sentences-{model}-{data.Length}", data, queries, s);
    }

    private static List<string> CorpusSentences(string repo, int fills)
    {
        string nluDir = Path.Combine(repo, "models", "corpus", "nlu"), dialogDir = Path.Combine(repo, "models", "corpus", "dialog");
        var texts = new HashSet<string>(StringComparer.Ordinal);
        foreach (string file in Directory.GetFiles(nluDir, "*.jsonl").Order(StringComparer.Ordinal))
        {
            foreach (string line in File.ReadLines(file))
            {
                if (line.Length > 0 && JsonNode.Parse(line)?["text"]?.GetValue<string>() is { Length: > 0 } t) texts.Add(t);
            }
        }
        foreach (string file in Directory.GetFiles(dialogDir, "*.jsonl").Order(StringComparer.Ordinal))
        {
            foreach (string line in File.ReadLines(file))
            {
                if (line.Length == 0 || JsonNode.Parse(line)?["messages"] is not JsonArray messages) continue;
                foreach (var m in messages)
                {
                    if (m?["content"]?.GetValue<string>() is { Length: > 0 } t) texts.Add(t);
                }
            }
        }
        if (fills > 0)
        {
            var corpus = NluCorpusBuilder.Build(nluDir, new NluCorpusOptions { Seed = 99, TrainFillsPerTemplate = fills, EvalFillsPerTemplate = fills });
            foreach (var e in corpus.Train.Concat(corpus.Dev).Concat(corpus.Test)) texts.Add(e.Text);
        }
        return texts.Order(StringComparer.Ordinal).ToList();
    }

    private static void Run(string dataset, float[][] data, float[][] queries, Settings s)
    {
        int n = data.Length, dim = data[0].Length;
        var (index, buildSeconds, builtNow) = BuildOrLoad(dataset, data, s);
        using var _ = index;
        int recallQueries = Math.Min(s.RecallQueries, queries.Length);
        var exact = ExactNeighbours(data, queries.Take(recallQueries).ToArray(), s.K);

        var results = new List<EfResult>();
        foreach (int ef in s.EfSweep)
        {
            foreach (var q in queries.Take(50)) index.Search(q, s.K, ef); // warm-up (JIT tiering, caches)
            var hist = new LongHistogram(TimeStamp.Seconds(10), 3);
            var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            foreach (var q in queries)
            {
                long t = Stopwatch.GetTimestamp();
                index.Search(q, s.K, ef);
                hist.RecordValue(Stopwatch.GetTimestamp() - t);
            }
            double cpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMilliseconds / queries.Length;
            int hit = 0;
            for (int i = 0; i < recallQueries; i++) hit += index.Search(queries[i], s.K, ef).Count(h => exact[i].Contains(h.Id));
            double ToMs(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
            var r = new EfResult(ef, ToMs(hist.GetValueAtPercentile(50)), ToMs(hist.GetValueAtPercentile(99)), cpuMs, (double)hit / (recallQueries * s.K));
            results.Add(r);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"hnsw {dataset} M={s.M} efC={s.EfConstruction} walk={(s.QuantizedWalk ? "4-bit" : "float")} ef={ef}: query p50 {r.P50Ms:F3} ms, p99 {r.P99Ms:F3} ms, cpu {r.CpuMsPerQuery:F3} ms/query; recall@{s.K} {r.Recall:F4} ({recallQueries} queries)"));
        }
        var report = new Report(dataset, n, dim, s.M, s.EfConstruction, s.QuantizedWalk, buildSeconds, n / buildSeconds, builtNow, queries.Length, recallQueries, s.K, BenchEnvironment.LoadAverage(), results);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"hnsw {dataset}: build {buildSeconds:F1} s ({report.InsertsPerSecond:F0} inserts/s{(builtNow ? "" : ", from the cached run")}); load average {report.LoadAverage}"));
        Console.WriteLine("results: " + Write(s.OutDir, report));
    }

    /// <summary>Builds the index (timed), or loads it from --index-cache (build time then comes from the run that built it).</summary>
    private static (HnswIndex, double, bool) BuildOrLoad(string dataset, float[][] data, Settings s)
    {
        string? cache = s.IndexCache is null ? null : Path.Combine(s.IndexCache, $"{dataset}-M{s.M}-efC{s.EfConstruction}.hnsw");
        if (cache is not null && File.Exists(cache))
        {
            using var f = File.OpenRead(cache);
            var (loaded, mark) = HnswIndex.Load(f, 0, s.QuantizedWalk); // the graph is the same for either walk
            if (loaded.Count == data.Length) return (loaded, mark > 0 ? mark / 1000.0 : double.NaN, false); // NaN: built elsewhere, time unknown
            loaded.Dispose();
        }
        var index = new HnswIndex(data[0].Length, new HnswParameters(s.M, s.EfConstruction, QuantizedWalk: s.QuantizedWalk));
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < data.Length; i++) index.Add(i, data[i]);
        double seconds = sw.Elapsed.TotalSeconds;
        if (cache is not null)
        {
            Directory.CreateDirectory(s.IndexCache!);
            using var f = File.Create(cache);
            index.Save(f, (long)(seconds * 1000)); // the mark carries the build time to later runs
        }
        return (index, seconds, true);
    }

    /// <summary>Exact top-k ids per query by cosine similarity (the reference recall is measured against).</summary>
    private static HashSet<long>[] ExactNeighbours(float[][] data, float[][] queries, int k)
    {
        var normalized = data.Select(v => VectorMath.Normalized(v)).ToArray();
        return queries.Select(q =>
        {
            var qn = VectorMath.Normalized(q);
            var heap = new PriorityQueue<long, float>();
            for (int i = 0; i < normalized.Length; i++)
            {
                float sim = VectorMath.Dot(qn, normalized[i]);
                if (heap.Count < k) heap.Enqueue(i, sim);
                else if (heap.TryPeek(out _, out float worst) && sim > worst) heap.EnqueueDequeue(i, sim);
            }
            return heap.UnorderedItems.Select(x => x.Element).ToHashSet();
        }).ToArray();
    }

    private static string Write(string outDir, Report report)
    {
        Directory.CreateDirectory(outDir);
        string stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        string basePath = Path.Combine(outDir, $"hnsw-{report.Dataset}-{stamp}");
        File.WriteAllText(basePath + ".json", JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        var md = new StringBuilder();
        md.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"HNSW {report.Dataset}: n={report.N}, dim={report.Dim}, M={report.M}, efC={report.EfConstruction}, walk={(report.QuantizedWalk ? "4-bit codes + float re-rank" : "float")}, build {report.BuildSeconds:F1} s ({report.InsertsPerSecond:F0} inserts/s), load average {report.LoadAverage}"));
        md.AppendLine();
        md.AppendLine($"| ef | p50 ms | p99 ms | CPU ms/query | recall@{report.K} |");
        md.AppendLine("| ---: | ---: | ---: | ---: | ---: |");
        foreach (var r in report.Results)
        {
            md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {r.Ef} | {r.P50Ms:F3} | {r.P99Ms:F3} | {r.CpuMsPerQuery:F3} | {r.Recall:F4} |"));
        }
        File.WriteAllText(basePath + ".md", md.ToString());
        return basePath + ".{json,md}";
    }
}
