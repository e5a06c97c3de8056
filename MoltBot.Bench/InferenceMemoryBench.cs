using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MoltBot.Contracts.Configuration;
using MoltBot.Contracts.Inference;
using MoltBot.Inference;

namespace MoltBot.Bench;

/// <summary>
/// Flat-memory check (issue 3): the inference module alone on the bundled models (or --models DIR), served through
/// its engines exactly as the host does. Reports the process RSS after a warm-up and after N NLU requests (micro-batched
/// by concurrent callers) plus G student generations, and the peak (VmHWM). A leak of one small tensor per request
/// shows as tens of MB over 10,000 requests.
/// Usage: dotnet run -c Release --project MoltBot.Bench -- inference memory [--requests 10000] [--generations 200] [--concurrency 32] [--threads 2]
/// [--warmup 5000] [--models DIR]
/// </summary>
public static class InferenceMemoryBench
{
    private static readonly string[] Utterances =
    [
        "hello", "what is the weather in Paris tomorrow", "remind me to call mom at 5pm", "thanks a lot", "what time is it in Tokyo?",
        "cancel my reminder", "tell me a joke", "你好", "bye", "who are you",
    ];

    public static async Task<int> RunAsync(string[] args)
    {
        var a = new BenchArgs(args);
        int requests = a.Int("requests", 10000);
        int generations = a.Int("generations", 200);
        int concurrency = a.Int("concurrency", 32);
        string models = Path.GetFullPath(a.Text("models") ?? Path.Combine(BenchEnvironment.RepoRoot(), "models"));

        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Inference:Threads"] = a.Text("threads") ?? "2" });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(new MoltBotPaths(models, Path.Combine(Path.GetTempPath(), "moltbot-bench-data"), models));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddMoltBotInference(builder.Configuration);
        using var host = builder.Build();
        var sw = Stopwatch.StartNew();
        await host.StartAsync();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"models loaded from {models} in {sw.Elapsed.TotalMilliseconds:F0} ms; RSS {Rss("VmRSS")} MB"));
        var nlu = host.Services.GetRequiredService<INluEngine>();
        var generator = host.Services.GetRequiredService<ITextGenerator>();

        // Warm-up long enough for libtorch's allocator and the GC to reach their working sizes for every batch shape
        // (measured: RSS climbs for the first ~5,000 requests, then stays flat).
        int warmup = a.Int("warmup", 5000);
        await NluAsync(nlu, warmup, concurrency);
        await GenerateAsync(generator, Math.Min(generations, 16));
        Settle();
        double warm = Rss("VmRSS");
        Console.WriteLine("  " + Managed());
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"after warm-up ({warmup} NLU, {Math.Min(generations, 16)} generations): RSS {warm:F1} MB"));

        sw.Restart();
        for (int done = 0; done < requests; done += 1000)
        {
            await NluAsync(nlu, Math.Min(1000, requests - done), concurrency);
            if (done % 2000 == 0) Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {done + 1000} NLU requests: RSS {Rss("VmRSS"):F1} MB, {Managed()}"));
        }
        double nluSeconds = sw.Elapsed.TotalSeconds;
        sw.Restart();
        await GenerateAsync(generator, generations);
        double genSeconds = sw.Elapsed.TotalSeconds;
        Settle();
        double after = Rss("VmRSS");
        Console.WriteLine("  " + Managed());
        // File-backed pages are mostly libtorch's code (shared with other processes, dropped under pressure); anonymous
        // pages are the heaps: tensors, allocator caches, the GC.
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  RSS split: anonymous {Rss("RssAnon"):F1} MB, file-backed {Rss("RssFile"):F1} MB"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"after {requests} NLU requests ({requests / nluSeconds:F0}/s at concurrency {concurrency}) and {generations} student generations ({genSeconds:F1} s): RSS {after:F1} MB, drift {after - warm:+0.0;-0.0} MB, peak (VmHWM) {Rss("VmHWM"):F1} MB"));
        await host.StopAsync();
        return 0;
    }

    private static async Task NluAsync(INluEngine nlu, int count, int concurrency)
    {
        int next = -1;
        var workers = Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count) await nlu.ParseAsync(Utterances[i % Utterances.Length], CancellationToken.None);
        });
        await Task.WhenAll(workers);
    }

    private static async Task GenerateAsync(ITextGenerator generator, int count)
    {
        for (int i = 0; i < count; i += 8)
        {
            await Task.WhenAll(Enumerable.Range(i, Math.Min(8, count - i)).Select(async j =>
            {
                var request = new GenerationRequest([new("user", Utterances[j % Utterances.Length])])
                {
                    Model = "student",
                    Sampling = new SamplingOptions { MaxNewTokens = 16, Temperature = 0.7f, Seed = j },
                };
                await foreach (var _ in generator.GenerateAsync(request, CancellationToken.None)) { }
            }));
        }
    }

    /// <summary>Managed garbage collected, so what remains is what is really held.</summary>
    private static void Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    /// <summary>The managed share of RSS: what the GC has committed (heap + free space it keeps).</summary>
    private static string Managed()
    {
        var info = GC.GetGCMemoryInfo();
        return string.Create(CultureInfo.InvariantCulture, $"managed heap {info.HeapSizeBytes / 1048576.0:F1} MB, GC committed {info.TotalCommittedBytes / 1048576.0:F1} MB");
    }

    private static double Rss(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
        return double.NaN;
    }
}
