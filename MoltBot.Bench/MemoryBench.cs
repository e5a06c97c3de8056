using System.Diagnostics;
using HdrHistogram;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MoltBot.Contracts.Configuration;
using MoltBot.Contracts.Memory;
using MoltBot.Memory;
using MoltBot.Memory.Vectors;

namespace MoltBot.Bench;

/// <summary>
/// `dotnet run -c Release --project MoltBot.Bench -- memory [hnsw|eventlog|profile|all] [--n N] [--m M] [--efc E] [--ef E]
/// [--dim D] [--events N] [--writers W]`: HNSW build time, query p50/p99 and recall@10 against brute force; event-log
/// append throughput with group commit; profile cache hit latency.
/// </summary>
public static class MemoryBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        string what = args.Length > 0 && !args[0].StartsWith("--") ? args[0] : "all";
        int Arg(string name, int fallback)
        {
            int i = Array.IndexOf(args, "--" + name);
            return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1]) : fallback;
        }
        if (what is "hnsw" or "all") Hnsw(Arg("n", 100_000), Arg("dim", 128), Arg("m", 16), Arg("efc", 200), Arg("ef", 128), Arg("queries", 1_000));
        if (what is "eventlog" or "all") await EventLogAsync(Arg("events", 200_000), Arg("writers", 256));
        if (what is "profile" or "all") await ProfileAsync(Arg("lookups", 1_000_000));
        return 0;
    }

    private static void Hnsw(int n, int dim, int m, int efc, int ef, int queryCount)
    {
        var rng = new Random(1);
        float[][] Gen(int count) => Enumerable.Range(0, count).Select(_ =>
            Enumerable.Range(0, dim).Select(_ => (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()))).ToArray()).ToArray();
        var data = Gen(n);
        var queries = Gen(queryCount);
        using var index = new HnswIndex(dim, new HnswParameters(m, efc, ef));
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < n; i++) index.Add(i, data[i]);
        double buildS = sw.Elapsed.TotalSeconds;

        var hist = new LongHistogram(TimeStamp.Seconds(10), 3);
        foreach (var q in queries.Take(50)) index.Search(q, 10); // warm-up
        foreach (var q in queries)
        {
            long t = Stopwatch.GetTimestamp();
            index.Search(q, 10);
            hist.RecordValue(Stopwatch.GetTimestamp() - t);
        }
        double ToMs(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

        var normalized = data.Select(v => VectorMath.Normalized(v)).ToArray();
        int hit = 0, total = 0, recallQueries = Math.Min(200, queryCount);
        foreach (var q in queries.Take(recallQueries))
        {
            var qn = VectorMath.Normalized(q);
            var exact = Enumerable.Range(0, n).Select(i => (i, d: VectorMath.Dot(qn, normalized[i]))).OrderByDescending(x => x.d).Take(10).Select(x => (long)x.i).ToHashSet();
            hit += index.Search(q, 10).Count(h => exact.Contains(h.Id));
            total += 10;
        }
        Console.WriteLine($"hnsw n={n} dim={dim} M={m} efC={efc} ef={ef}: build {buildS:F1} s ({n / buildS:F0} inserts/s); " +
            $"query p50 {ToMs(hist.GetValueAtPercentile(50)):F3} ms, p99 {ToMs(hist.GetValueAtPercentile(99)):F3} ms; recall@10 {(double)hit / total:F4} ({recallQueries} queries)");
    }

    private static async Task<(ServiceProvider, List<IHostedService>, string)> StartMemoryAsync()
    {
        string root = Directory.CreateTempSubdirectory("moltbot-bench-memory").FullName;
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(new MoltBotPaths(root, Path.Combine(root, "data"), Path.Combine(root, "models")));
        services.AddSingleton(TimeProvider.System);
        services.AddMoltBotMemory(new ConfigurationBuilder().Build());
        var sp = services.BuildServiceProvider();
        var hosted = sp.GetServices<IHostedService>().ToList();
        foreach (var h in hosted) await h.StartAsync(CancellationToken.None);
        return (sp, hosted, root);
    }

    private static async Task StopMemoryAsync(ServiceProvider sp, List<IHostedService> hosted, string root)
    {
        foreach (var h in Enumerable.Reverse(hosted)) await h.StopAsync(CancellationToken.None);
        await sp.DisposeAsync();
        Directory.Delete(root, recursive: true);
    }

    private static async Task EventLogAsync(int events, int writers)
    {
        var (sp, hosted, root) = await StartMemoryAsync();
        var log = sp.GetRequiredService<IEventLog>();
        var writer = sp.GetRequiredService<MoltBot.Memory.EventLog>();
        long commitsBefore = writer.Commits;
        int perWriter = events / writers;
        long t0 = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            for (int i = 0; i < perWriter; i++)
            {
                await log.AppendAsync(new LoggedEvent($"web:c{w}", $"web:u{w}", EventKinds.MessageIn, t0 + i, "hello there, this is message " + i), CancellationToken.None);
            }
        })));
        double s = sw.Elapsed.TotalSeconds;
        int total = perWriter * writers;
        Console.WriteLine($"eventlog: {total} acknowledged appends by {writers} concurrent writers in {s:F2} s = {total / s:F0} events/s; {writer.Commits - commitsBefore} commits (avg batch {total / (double)Math.Max(1, writer.Commits - commitsBefore):F0})");
        await StopMemoryAsync(sp, hosted, root);
    }

    private static async Task ProfileAsync(int lookups)
    {
        var (sp, hosted, root) = await StartMemoryAsync();
        var store = sp.GetRequiredService<IUserProfileStore>();
        for (int i = 0; i < 1000; i++) await store.SaveAsync(new UserProfile("web:u" + i) { DisplayName = "User " + i, Language = "en" }, CancellationToken.None);
        var keys = Enumerable.Range(0, 1000).Select(i => "web:u" + i).ToArray();
        for (int i = 0; i < 100_000; i++) await store.GetAsync(keys[i % 1000], CancellationToken.None); // warm-up
        var hist = new LongHistogram(TimeStamp.Seconds(1), 3);
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < lookups; i++)
        {
            long t = Stopwatch.GetTimestamp();
            await store.GetAsync(keys[i % 1000], CancellationToken.None);
            hist.RecordValue(Stopwatch.GetTimestamp() - t);
        }
        double ns(long ticks) => ticks * 1e9 / Stopwatch.Frequency;
        Console.WriteLine($"profile cache hit: mean {sw.Elapsed.TotalNanoseconds / lookups:F0} ns, p50 {ns(hist.GetValueAtPercentile(50)):F0} ns, p99 {ns(hist.GetValueAtPercentile(99)):F0} ns ({lookups} lookups over 1000 cached profiles)");
        await StopMemoryAsync(sp, hosted, root);
    }
}
