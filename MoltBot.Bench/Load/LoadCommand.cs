using System.Diagnostics;
using System.Globalization;

namespace MoltBot.Bench.Load;

/// <summary>
/// `dotnet run -c Release --project MoltBot.Bench -- load [options]` and `... -- coldstart [--runs N]`.
/// Starts MoltBot as a child process on its embedded defaults unless --url points at a running one.
/// </summary>
public static class LoadCommand
{
    /// <summary>Named scenarios: the message each simulated user sends (the reply's `source` shows the path taken).</summary>
    public static readonly Dictionary<string, string> Scenarios = new()
    {
        ["skill"] = "/time",
        ["nlu-skill"] = "what time is it in Tokyo?",
        ["student"] = "how was your weekend?",
        ["teacher"] = "how was your weekend?",
    };

    /// <summary>The options each verb takes: anything else is refused, so a mistyped option cannot silently measure the defaults.</summary>
    private static readonly Dictionary<string, string[]> Options = new()
    {
        ["load"] = ["scenario", "connections", "messages", "rate", "warmup", "text", "dll", "server-args", "url", "server-pid", "out"],
        ["coldstart"] = ["runs", "text", "dll", "server-args", "details", "out"],
    };

    public const string Usage = """
        usage: MoltBot.Bench load [--scenario skill|nlu-skill|student|teacher] [--connections K[,K2,...]] [--messages N]
                                  [--rate R] [--warmup W] [--text TEXT] [--dll PATH] [--server-args "..."]
                                  [--url URL [--server-pid PID]] [--out DIR]
               MoltBot.Bench coldstart [--runs N] [--text TEXT] [--dll PATH] [--server-args "..."] [--details] [--out DIR]
          --connections  simulated users, one WebSocket each; a list runs one fresh server per value (default 100)
          --messages     measured messages per user (default 20)
          --rate         total messages/s across users, open loop; 0 = closed loop, each user waits for its reply (default 0)
          --warmup       messages per user sent first on the same connections at the same rate, checked but not timed;
                         a server started here is then waited for until its deferred model loads are done (default 0)
          --dll          moltbot.dll to start (default: MoltBot/bin/Release|Debug/net10.0/moltbot.dll of this checkout)
          --url          measure a running server instead of starting one (--server-pid adds its CPU and peak RSS)
        """;

    /// <param name="usageErrors">Where a refused command line is reported (default: stderr).</param>
    public static async Task<int> RunAsync(string[] args, TextWriter? usageErrors = null)
    {
        if (args.Skip(1).Any(a => a is "--help" or "-h" or "-?"))
        {
            Console.WriteLine(Usage);
            return 0;
        }
        try
        {
            return await RunCheckedAsync(args);
        }
        catch (UsageException ex)
        {
            (usageErrors ?? Console.Error).WriteLine($"{args[0]}: {ex.Message} (--help lists the options)");
            return 2;
        }
    }

    private static async Task<int> RunCheckedAsync(string[] args)
    {
        var o = Parse(args);
        string repo = FindRepoRoot();
        string outDir = o.GetValueOrDefault("out") ?? Path.Combine(repo, "bench-results");
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };

        if (args[0] == "coldstart") return await ColdStartAsync(o, repo, outDir, cts.Token);

        string scenario = o.GetValueOrDefault("scenario") ?? "nlu-skill";
        // Simulated users send faster than a person: lift the per-connection rate limit, which protects real deployments.
        // The generation scenarios pin the engine: student only, or teacher only (Inference:LmPolicy).
        string[] policy = scenario switch
        {
            "student" => ["--Inference:LmPolicy", "student"],
            "teacher" => ["--Inference:LmPolicy", "teacher"],
            _ => [],
        };
        string[] serverArgs = ["--Gateway:RatePerSecond", "10000", "--Gateway:RateBurst", "100000",
            .. policy, .. o.GetValueOrDefault("server-args")?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? []];
        var concurrency = (o.GetValueOrDefault("connections") ?? "100").Split(',').Select(c => Number(o, "connections", c, min: 1)).ToArray();
        int messages = Number(o, "messages", o.GetValueOrDefault("messages") ?? "20", min: 1);
        int warmup = Number(o, "warmup", o.GetValueOrDefault("warmup") ?? "0", min: 0);
        double rate = double.TryParse(o.GetValueOrDefault("rate") ?? "0", NumberStyles.Float, CultureInfo.InvariantCulture, out var perSecond) && perSecond >= 0 && double.IsFinite(perSecond)
            ? perSecond : throw new UsageException($"--rate must be a number ≥ 0 (messages/s; 0 = closed loop), not '{o["rate"]}'");
        string text = o.GetValueOrDefault("text") ?? Scenarios.GetValueOrDefault(scenario)
            ?? throw new UsageException($"unknown scenario '{scenario}' ({string.Join(", ", Scenarios.Keys)})");
        var results = new List<LoadResult>();
        foreach (int k in concurrency)
        {
            await using var server = o.TryGetValue("url", out var url)
                ? MoltBotServer.Attach(Url(url), o.TryGetValue("server-pid", out var pid) ? Number(o, "server-pid", pid, min: 1) : null)
                : await MoltBotServer.StartAsync(MoltbotDll(repo, o), repo, serverArgs, cts.Token);
            var settings = new LoadSettings
            {
                Connections = k,
                MessagesPerConnection = messages,
                WarmupMessagesPerConnection = warmup,
                Rate = rate,
                Scenario = scenario,
                Text = text,
            };
            Console.Error.WriteLine($"load: {scenario}, {k} users × {(warmup > 0 ? $"{warmup} warm-up + " : "")}{settings.MessagesPerConnection} messages, rate {(settings.Rate > 0 ? settings.Rate : "max")} ...");
            var r = await LoadGenerator.RunAsync(server, settings, cts.Token);
            results.Add(r);
            Console.Write(BenchReport.Markdown([r]).Split('\n', 3)[2]);
        }
        string path = BenchReport.Write(outDir, "load-" + scenario, results);
        Console.WriteLine(BenchReport.Markdown(results));
        Console.WriteLine($"written: {path}.json, .md, -cdf.png");
        return results.All(r => r.Lost == 0 && r.Duplicated == 0 && r.Warmup is null or { Lost: 0, Duplicated: 0 }) ? 0 : 1;
    }

    /// <summary>Process start → first reply served, over N fresh processes; prints the median.</summary>
    private static async Task<int> ColdStartAsync(Dictionary<string, string> o, string repo, string outDir, CancellationToken ct)
    {
        int runs = Number(o, "runs", o.GetValueOrDefault("runs") ?? "5", min: 1);
        var firstReply = new List<double>();
        var listening = new List<double>();
        var cpu = new List<double>();
        for (int i = 0; i < runs; i++)
        {
            var sw = Stopwatch.StartNew();
            await using var server = await MoltBotServer.StartAsync(MoltbotDll(repo, o), repo,
                o.GetValueOrDefault("server-args")?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [], ct);
            double listenedMs = sw.Elapsed.TotalMilliseconds;
            string token = await server.GetTokenAsync(ct);
            double tokenMs = sw.Elapsed.TotalMilliseconds;
            await using var client = await GatewayClient.ConnectAsync(server.Url, token, "cold", ct);
            double sessionMs = sw.Elapsed.TotalMilliseconds;
            await client.SendTextAsync("c1", o.GetValueOrDefault("text") ?? "hello", ct);
            while (true)
            {
                using var f = await client.ReceiveAsync(ct);
                if (f.RootElement.GetProperty("type").GetString() == "reply.final") break;
            }
            firstReply.Add(sw.Elapsed.TotalMilliseconds);
            listening.Add(server.StartToListening.TotalMilliseconds);
            // CPU time the server used up to its first reply: unlike wall time, it hardly depends on other load on the box.
            cpu.Add(server.CpuTime()?.TotalMilliseconds ?? double.NaN);
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"run {i + 1}: listening {listening[^1]:F0} ms, first reply {firstReply[^1]:F0} ms, server CPU {cpu[^1]:F0} ms"));
            if (o.ContainsKey("details"))
            {
                // Client side after "listening": the token request, the WebSocket session (upgrade, hello, auth), the turn.
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  after listening: token {tokenMs - listenedMs:F0} ms, WebSocket session {sessionMs - tokenMs:F0} ms, message → reply.final {firstReply[^1] - sessionMs:F0} ms"));
                // Per-thread CPU at the first reply, then the server's own start-up lines (timeline, model loads).
                Console.Error.WriteLine("  threads at first reply: " + string.Join(", ", server.ThreadCpu().Where(t => t.CpuMs > 0)
                    .Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Thread}{(t.Count > 1 ? $" ×{t.Count}" : "")} {t.CpuMs:F0} ms"))));
                // The deferred model loads log their timings once all are loaded.
                if (!await server.WaitForModelsLoadedAsync(TimeSpan.FromSeconds(30), ct))
                    Console.Error.WriteLine("  (the server did not report its model loads within 30 s)");
                foreach (var l in server.StartupLog) Console.Error.WriteLine("  " + l);
            }
        }
        firstReply.Sort();
        listening.Sort();
        cpu.Sort();
        string line = string.Create(CultureInfo.InvariantCulture,
            $"cold start over {runs} runs: median process start → listening {listening[runs / 2]:F0} ms, → first reply {firstReply[runs / 2]:F0} ms (min {firstReply[0]:F0}, max {firstReply[^1]:F0}); server CPU to first reply median {cpu[runs / 2]:F0} ms");
        Console.WriteLine(line);
        Directory.CreateDirectory(outDir);
        await File.WriteAllTextAsync(Path.Combine(outDir, $"coldstart-{DateTime.UtcNow:yyyyMMdd-HHmmss}.json"),
            LoadGenerator.ToJson(new { runs, firstReplyMs = firstReply, listeningMs = listening, serverCpuMs = cpu }), ct);
        return 0;
    }

    private static string MoltbotDll(string repo, Dictionary<string, string> o)
    {
        if (o.TryGetValue("dll", out var dll)) return dll;
        foreach (var config in new[] { "Release", "Debug" })
        {
            string p = Path.Combine(repo, "MoltBot", "bin", config, "net10.0", "moltbot.dll");
            if (File.Exists(p)) return p;
        }
        throw new FileNotFoundException("moltbot.dll not built: run `dotnet build -c Release MoltBot` first, or pass --dll PATH");
    }

    private static string FindRepoRoot()
    {
        for (var d = new DirectoryInfo(Directory.GetCurrentDirectory()); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "MoltBot.sln"))) return d.FullName;
        throw new InvalidOperationException("run from inside the MoltBot repository");
    }

    /// <summary>Options that are switches (no value); every other option takes the next argument as its value.</summary>
    private static readonly string[] Flags = ["details"];

    /// <summary>
    /// "--key value" pairs of a verb ("--flag" alone = "true"). A value is taken as is even when it starts with "--"
    /// (`--server-args "--Inference:NluPolicy student"`). An option the verb does not take, an option given twice, an
    /// option without its value or a stray value is a <see cref="UsageException"/> naming it.
    /// </summary>
    public static Dictionary<string, string> Parse(string[] args)
    {
        if (args.Length == 0 || !Options.TryGetValue(args[0], out var known)) throw new UsageException($"unknown verb '{args.FirstOrDefault()}' (load, coldstart)");
        var o = new Dictionary<string, string>();
        for (int i = 1; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new UsageException($"unexpected argument '{args[i]}'");
            string key = args[i][2..];
            if (!known.Contains(key)) throw new UsageException($"unknown option '--{key}' for {args[0]}");
            if (o.ContainsKey(key)) throw new UsageException($"option '--{key}' given twice");
            if (Flags.Contains(key)) o[key] = "true";
            else if (i + 1 < args.Length) o[key] = args[++i];
            else throw new UsageException($"option '--{key}' needs a value");
        }
        return o;
    }

    private static Uri Url(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var u) && u.Scheme is "http" or "https"
            ? u : throw new UsageException($"--url must be an absolute http(s) URL, not '{value}'");

    private static int Number(Dictionary<string, string> o, string key, string value, int min) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= min
            ? n : throw new UsageException($"--{key} must be a whole number ≥ {min}, not '{value}'");
}

/// <summary>A command line the bench cannot run (unknown option, bad number): one line on stderr and exit code 2, no server started.</summary>
public sealed class UsageException(string message) : Exception(message);
