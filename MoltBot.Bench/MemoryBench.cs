using System.Diagnostics;
using System.Globalization;
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
/// `dotnet run -c Release --project MoltBot.Bench -- memory [hnsw|hnsw-sentences|eventlog|profile|all] [options]`:
/// HNSW build rate, query p50/p99 and recall@10 against brute force (<see cref="HnswRecallBench"/>; options --n N
/// --dim D --m M --efc E --ef E1,E2,... --queries Q --recall-queries R --k K --index-cache DIR --out DIR --quantized-walk (4-bit walk), and for
/// hnsw-sentences --model student-nlu|teacher-nlu --fills F); event-log append throughput with group commit
/// (--events N --writers W); memory start-up over a big event log with and without the segment index snapshots
/// (eventlog-open --events N --segment-mb M --runs R); profile cache hit latency (--lookups N).
/// </summary>
public static class MemoryBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        string what = args.Length > 0 && !args[0].StartsWith("--") ? args[0] : "all";
        var a = new BenchArgs(args);
        if (what is "hnsw" or "hnsw-sentences" or "all")
        {
            var d = new HnswParameters();
            var settings = new HnswRecallBench.Settings(a.Int("m", d.M), a.Int("efc", d.EfConstruction),
                (a.Text("ef") ?? d.EfSearch.ToString(CultureInfo.InvariantCulture)).Split(',').Select(e => int.Parse(e, CultureInfo.InvariantCulture)).ToArray(),
                a.Int("queries", 1_000), a.Int("recall-queries", 500), a.Int("k", 10), a.Text("index-cache"), a.Text("out") ?? Path.Combine(RepoRoot(), "bench-results"),
                QuantizedWalk: a.Flag("quantized-walk"));
            if (what == "hnsw-sentences") HnswRecallBench.Sentences(RepoRoot(), a.Text("model") ?? "student-nlu", a.Int("fills", 0), a.Int("n", 1_000_000), settings);
            else HnswRecallBench.RandomGaussian(a.Int("n", 100_000), a.Int("dim", 128), settings);
        }
        if (what is "eventlog" or "all") await EventLogAsync(a.Int("events", 200_000), a.Int("writers", 256));
        if (what is "eventlog-open") await EventLogOpenAsync(a.Int("events", 1_000_000), a.Int("segment-mb", 64), a.Int("runs", 3));
        if (what is "profile" or "all") await ProfileAsync(a.Int("lookups", 1_000_000));
        return 0;
    }

    private static string RepoRoot()
    {
        for (var d = new DirectoryInfo(Directory.GetCurrentDirectory()); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "MoltBot.sln"))) return d.FullName;
        }
        return Directory.GetCurrentDirectory();
    }

    private static async Task<(ServiceProvider, List<IHostedService>, string)> StartMemoryAsync(string? root = null, Dictionary<string, string?>? settings = null)
    {
        root ??= Directory.CreateTempSubdirectory("moltbot-bench-memory").FullName;
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(new MoltBotPaths(root, Path.Combine(root, "data"), Path.Combine(root, "models")));
        services.AddSingleton(TimeProvider.System);
        services.AddMoltBotMemory(new ConfigurationBuilder().AddInMemoryCollection(settings ?? new()).Build());
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

    /// <summary>
    /// Start-up time of the memory module over an event log of <paramref name="events"/> events: with the sealed
    /// segments' index snapshots, and with them deleted (the full scan every start needed before they existed).
    /// </summary>
    private static async Task EventLogOpenAsync(int events, int segmentMb, int runs)
    {
        var settings = new Dictionary<string, string?> { ["Memory:EventSegmentMegabytes"] = segmentMb.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        var (sp, hosted, root) = await StartMemoryAsync(null, settings);
        var log = sp.GetRequiredService<IEventLog>();
        long t0 = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - events;
        const int writers = 256;
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            for (int i = w; i < events; i += writers)
            {
                await log.AppendAsync(new LoggedEvent($"web:c{i % 5000}", $"web:u{i % 5000}", EventKinds.MessageIn, t0 + i, "hello there, this is message " + i), CancellationToken.None);
            }
        })));
        foreach (var h in Enumerable.Reverse(hosted)) await h.StopAsync(CancellationToken.None);
        await sp.DisposeAsync();
        string dir = Path.Combine(root, "data", "memory", "moltbot.db.events");
        long bytes = Directory.GetFiles(dir, "*.seg").Sum(f => new FileInfo(f).Length);
        int segments = Directory.GetFiles(dir, "*.seg").Length;

        async Task<(double Ms, int Snapshots, int Count)> StartOnceAsync()
        {
            var sw = Stopwatch.StartNew();
            var (sp2, hosted2, _) = await StartMemoryAsync(root, settings);
            double ms = sw.Elapsed.TotalMilliseconds;
            var eventLog = sp2.GetRequiredService<MoltBot.Memory.EventLog>();
            var result = (ms, eventLog.SnapshotsUsed, eventLog.Count);
            foreach (var h in Enumerable.Reverse(hosted2)) await h.StopAsync(CancellationToken.None);
            await sp2.DisposeAsync();
            return result;
        }

        await StartOnceAsync(); // warm-up: JIT, page cache, snapshots of every sealed segment written
        var with = new List<(double Ms, int Snapshots, int Count)>();
        var without = new List<(double Ms, int Snapshots, int Count)>();
        for (int r = 0; r < runs; r++)
        {
            with.Add(await StartOnceAsync());
            foreach (var idx in Directory.GetFiles(dir, "*.idx")) File.Delete(idx);
            without.Add(await StartOnceAsync());
        }
        static double Median(IEnumerable<double> xs) { var a = xs.Order().ToArray(); return a[a.Length / 2]; }
        Console.WriteLine($"eventlog-open: {with[0].Count:N0} events, {bytes / 1048576.0:F0} MB in {segments} segments of {segmentMb} MB; memory module start (LiteDB, event log, vectors, replay), median of {runs}:");
        Console.WriteLine($"  with index snapshots ({with[0].Snapshots} sealed segments from snapshots): {Median(with.Select(x => x.Ms)):F0} ms [{string.Join(", ", with.Select(x => x.Ms.ToString("F0")))}]");
        Console.WriteLine($"  full scan (snapshots deleted): {Median(without.Select(x => x.Ms)):F0} ms [{string.Join(", ", without.Select(x => x.Ms.ToString("F0")))}]");
        Directory.Delete(root, recursive: true);
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
