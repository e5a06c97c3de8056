using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MoltBot.Contracts.Configuration;
using MoltBot.Contracts.Inference;
using MoltBot.Inference;
using MoltBot.Inference.Engines;
using MoltBot.Inference.Kernels;
using MoltBot.Inference.Models;
using TorchSharp;

namespace MoltBot.Bench;

/// <summary>
/// Issue 3's NLU target, measured on the bundled student-nlu (or --models DIR) with the utterances of
/// models/corpus/nlu/test.jsonl (real lengths, English and Chinese):
/// 1. where a batch's time goes, stage by stage, on the model alone (tokenize, tensors, forward, read-back, decode);
/// 2. through the engine as the host runs it: utterances/s with --concurrency callers (student-only policy, then the
///    default escalate policy) and the single-utterance p50/p99 of one sequential caller; --runs rounds, interleaved,
///    reported as medians with the load average.
/// Usage: MoltBot.Bench inference nlu [--runs 3] [--requests 20000] [--concurrency 64] [--threads 2] [--models DIR]
///        [--policies student,escalate] (any of student, teacher, escalate)
/// </summary>
public static class NluThroughputBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var a = new BenchArgs(args);
        int runs = a.Int("runs", 3);
        int requests = a.Int("requests", 20000);
        int concurrency = a.Int("concurrency", 64);
        int threads = a.Int("threads", 2);
        string models = Path.GetFullPath(a.Text("models") ?? Path.Combine(BenchEnvironment.RepoRoot(), "models"));
        string corpus = Path.Combine(BenchEnvironment.RepoRoot(), "models", "corpus", "nlu", "test.jsonl");
        var utterances = File.ReadLines(corpus).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("text").GetString()!).ToArray();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{utterances.Length} utterances from {corpus}; {threads} torch threads; {Environment.ProcessorCount} cores; load {BenchEnvironment.LoadAverage()}"));

        torch.set_num_threads(threads);
        Stages(Path.Combine(models, "student-nlu"), utterances);

        var results = new Dictionary<string, List<(double Throughput, double CpuPerUtterance, double P50, double P99, double Escalated)>>();
        // --policies student,teacher compares the INT8 student with its FP32 teacher under the same batched load.
        string[] policies = (a.Text("policies") ?? "student,escalate").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (policies.Length == 0 || policies.Any(p => p is not ("student" or "teacher" or "escalate")))
        {
            Console.Error.WriteLine("--policies takes a comma-separated list of student, teacher, escalate");
            return 2;
        }
        for (int round = 0; round < runs; round++)
        {
            foreach (string policy in policies)
            {
                var r = await EngineRunAsync(models, policy, threads, utterances, requests, concurrency);
                (results.TryGetValue(policy, out var list) ? list : results[policy] = []).Add(r);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  round {round + 1}, policy {policy}: {r.Throughput:F0} utterances/s at concurrency {concurrency} ({r.Escalated:P1} escalated, {r.CpuPerUtterance:F0} CPU µs per utterance); single p50 {r.P50:F3} ms, p99 {r.P99:F3} ms; load {BenchEnvironment.LoadAverage()}"));
            }
        }
        foreach (string policy in policies.Where(results.ContainsKey))
        {
            var list = results[policy];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"NLU {PolicyLabel(policy)}: {Median(list.Select(x => x.Throughput)):F0} utterances/s batched on {threads} threads " +
                $"(runs: {string.Join(", ", list.Select(x => x.Throughput.ToString("F0", CultureInfo.InvariantCulture)))}), {Median(list.Select(x => x.CpuPerUtterance)):F0} CPU µs per utterance; single-utterance p50 {Median(list.Select(x => x.P50)):F3} ms, p99 {Median(list.Select(x => x.P99)):F3} ms"));
        }
        Console.WriteLine($"load {BenchEnvironment.LoadAverage()}");
        return 0;
    }

    /// <summary>The summary line's name for a policy (the teacher policy used to be labelled as the default escalate one).</summary>
    private static string PolicyLabel(string policy) => policy switch
    {
        "student" => "student (policy student)",
        "teacher" => "teacher (policy teacher)",
        _ => "default policy (escalate)",
    };

    /// <summary>One batch of 64 corpus utterances on the model alone, stage by stage (median over 200 batches).</summary>
    private static void Stages(string folder, string[] utterances)
    {
        var choice = Int8KernelSelector.Select("auto");
        using var nlu = ModelFolder.LoadNlu(folder, choice.Kernel);
        var rng = new Random(7);
        var batches = Enumerable.Range(0, 200).Select(_ => Enumerable.Range(0, 64).Select(_ => utterances[rng.Next(utterances.Length)]).ToArray()).ToArray();
        // Per stage: wall-clock µs and process CPU µs (every thread of the process, so libtorch's OpenMP threads count).
        var t = new Dictionary<string, (List<double> Wall, List<double> Cpu)>();
        var sw = new Stopwatch();
        double cpu0 = 0;
        void Start()
        {
            sw.Restart();
            cpu0 = CpuClock.ProcessMicroseconds();
        }
        void Stop(string stage, bool keep)
        {
            double wall = sw.Elapsed.TotalMicroseconds, cpu = CpuClock.ProcessMicroseconds() - cpu0;
            if (!keep) return;
            if (!t.TryGetValue(stage, out var l)) t[stage] = l = ([], []);
            l.Wall.Add(wall);
            l.Cpu.Add(cpu);
        }
        int padded = 0, real = 0;
        for (int i = -20; i < batches.Length; i++)
        {
            var texts = batches[Math.Max(i, 0)];
            bool keep = i >= 0;
            Start();
            var encoded = texts.Select(x => NluEngine.Encode(nlu, x)).ToArray();
            Stop("tokenize (64 × EncodeWithOffsets)", keep);
            Start();
            var inputs = NluBatchInputs.Build(encoded, nlu.Config);
            Stop("input arrays", keep);
            using var mode = torch.inference_mode();
            using var scope = torch.NewDisposeScope();
            Start();
            var (ids, mask) = inputs.ToTensors();
            using var output = nlu.Model.Predict(ids, mask);
            Stop("tensors + forward (one graph invoke)", keep);
            Start();
            var raw = NluBatchOutputs.Read(output);
            Stop("read-back (3 copies)", keep);
            Start();
            for (int b = 0; b < texts.Length; b++) _ = raw.Decode(b, texts[b], encoded[b], inputs.Length, nlu.Config);
            Stop("decode (intent, BIO spans, language, embedding)", keep);
            if (!keep) continue;
            padded += 64 * inputs.Length;
            real += encoded.Sum(e => Math.Max(1, e.Count));
        }
        double total = t.Values.Sum(x => Median(x.Wall)), totalCpu = t.Values.Sum(x => Median(x.Cpu));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"one batch of 64, model alone ({nlu.Precision}, {padded / batches.Length} padded / {real / batches.Length} real tokens per batch), medians over {batches.Length} batches, load {BenchEnvironment.LoadAverage()}:"));
        Console.WriteLine($"  {"stage",-50} {"wall µs",8}  {"share",6}  {"CPU µs",8}");
        foreach (var (stage, (wall, cpu)) in t)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {stage,-50} {Median(wall),8:F0}  {Median(wall) / total,6:P1}  {Median(cpu),8:F0}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {"sum",-50} {total,8:F0}          {totalCpu,8:F0}  → {64e6 / total:F0} utterances/s wall, {totalCpu / 64:F0} CPU µs per utterance"));
        foreach (int size in new[] { 1, 16, 64, 128, 256 })
        {
            var texts = Enumerable.Range(0, size).Select(_ => utterances[rng.Next(utterances.Length)]).ToArray();
            var inputs = NluBatchInputs.Build(texts.Select(x => NluEngine.Encode(nlu, x)).ToArray(), nlu.Config);
            using var mode = torch.inference_mode();
            var times = new List<double>();
            var cpus = new List<double>();
            for (int i = 0; i < 100; i++)
            {
                using var scope = torch.NewDisposeScope();
                sw.Restart();
                double c0 = CpuClock.ProcessMicroseconds();
                var (ids, mask) = inputs.ToTensors();
                using var output = nlu.Model.Predict(ids, mask);
                _ = NluBatchOutputs.Read(output);
                if (i < 10) continue;
                times.Add(sw.Elapsed.TotalMicroseconds);
                cpus.Add(CpuClock.ProcessMicroseconds() - c0);
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  forward + read-back, batch {size,3} ({inputs.Length,2} positions): {Median(times),7:F0} µs wall = {size * 1e6 / Median(times),6:F0} utterances/s; {Median(cpus) / size,6:F0} CPU µs per utterance"));
        }
        Buckets(nlu, utterances);
    }

    /// <summary>Batches of 64 through <see cref="NluEngine.Run(LoadedNlu, IReadOnlyList{string}, IReadOnlyList{IReadOnlyList{ValueTuple{int, int, int}}}, int)"/> at several length-bucket sizes.</summary>
    private static void Buckets(LoadedNlu nlu, string[] utterances)
    {
        var rng = new Random(11);
        var batches = Enumerable.Range(0, 100).Select(_ => Enumerable.Range(0, 64).Select(_ => utterances[rng.Next(utterances.Length)]).ToArray()).ToArray();
        var encoded = batches.Select(b => b.Select(x => NluEngine.Encode(nlu, x)).ToArray()).ToArray();
        foreach (int chunk in new[] { 64, 128, 256, 512, 1024, int.MaxValue })
        {
            var wall = new List<double>();
            var cpu = new List<double>();
            int passes = 0;
            for (int i = -10; i < batches.Length; i++)
            {
                int k = Math.Max(i, 0);
                var sw = Stopwatch.StartNew();
                double c0 = CpuClock.ProcessMicroseconds();
                NluEngine.Run(nlu, batches[k], encoded[k], chunk);
                if (i < 0) continue;
                wall.Add(sw.Elapsed.TotalMicroseconds);
                cpu.Add(CpuClock.ProcessMicroseconds() - c0);
                passes += LengthBuckets.Split(encoded[k].Select(e => e.Count).ToList(), chunk).Count;
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  batch of 64 in length buckets of ≤ {(chunk == int.MaxValue ? "∞" : chunk.ToString(CultureInfo.InvariantCulture)),4} rows ({passes / (double)batches.Length:F1} passes): {Median(wall),6:F0} µs wall = {64e6 / Median(wall),6:F0} utterances/s; {Median(cpu) / 64,5:F0} CPU µs per utterance"));
        }
    }

    private static async Task<(double Throughput, double CpuPerUtterance, double P50, double P99, double Escalated)> EngineRunAsync(string models, string policy, int threads,
        string[] utterances, int requests, int concurrency)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Inference:Threads"] = threads.ToString(CultureInfo.InvariantCulture),
            ["Inference:NluPolicy"] = policy,
            // Only the NLU models: the LM folders would only add load time.
            ["Inference:TeacherLm"] = "",
            ["Inference:StudentLm"] = "",
        });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(new MoltBotPaths(models, Path.Combine(Path.GetTempPath(), "moltbot-bench-data"), models));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddMoltBotInference(builder.Configuration);
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var nlu = host.Services.GetRequiredService<INluEngine>();
            await ManyAsync(nlu, utterances, 2000, concurrency); // warm-up: every batch shape, JIT, allocator
            var sw = Stopwatch.StartNew();
            double cpu0 = CpuClock.ProcessMicroseconds();
            int escalated = await ManyAsync(nlu, utterances, requests, concurrency);
            double throughput = requests / sw.Elapsed.TotalSeconds, cpu = (CpuClock.ProcessMicroseconds() - cpu0) / requests;
            var lat = new List<double>();
            for (int i = 0; i < 500; i++)
            {
                sw.Restart();
                await nlu.ParseAsync(utterances[(i * 7) % utterances.Length], CancellationToken.None);
                if (i >= 50) lat.Add(sw.Elapsed.TotalMilliseconds);
            }
            lat.Sort();
            return (throughput, cpu, lat[lat.Count / 2], lat[(int)(lat.Count * 0.99)], escalated / (double)requests);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    private static async Task<int> ManyAsync(INluEngine nlu, string[] utterances, int count, int concurrency)
    {
        int next = -1, escalated = 0;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var r = await nlu.ParseAsync(utterances[i % utterances.Length], CancellationToken.None);
                if (r.Escalated) Interlocked.Increment(ref escalated);
            }
        }));
        return escalated;
    }

    private static double Median(IEnumerable<double> xs)
    {
        var sorted = xs.Order().ToList();
        return sorted[sorted.Count / 2];
    }

}
