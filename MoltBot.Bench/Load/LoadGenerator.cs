using System.Diagnostics;
using System.Text.Json;
using HdrHistogram;

namespace MoltBot.Bench.Load;

public sealed record LoadSettings
{
    public int Connections { get; init; } = 100;
    public int MessagesPerConnection { get; init; } = 20;
    /// <summary>Total target messages/s across connections; 0 = closed loop (each user waits for its reply).</summary>
    public double Rate { get; init; }
    public string Scenario { get; init; } = "custom";
    public string Text { get; init; } = "what time is it in Tokyo?";
    public TimeSpan ReplyTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>
    /// Messages each user sends, on the same connections and at the same rate, before the measured ones; their replies
    /// are checked (lost, duplicated) but not timed, and a server started by the generator is then also waited for until
    /// its deferred model loads are done. 0 = measure from the first message, start-up included.
    /// </summary>
    public int WarmupMessagesPerConnection { get; init; }
}

/// <summary>What the warm-up phase sent and got back: not in the latency figures, but a lost or duplicated reply still counts.</summary>
public sealed record WarmupResult
{
    public int Sent { get; init; }
    public int Answered { get; init; }
    public int Lost { get; init; }
    public int Duplicated { get; init; }
    public int Errors { get; init; }
    public double WallSeconds { get; init; }
    /// <summary>True when the server reported all its models loaded before the measured phase; null for a server attached by URL.</summary>
    public bool? ModelsLoaded { get; init; }
}

public sealed record LoadResult
{
    public required LoadSettings Settings { get; init; }
    public int Sent { get; init; }
    public int Answered { get; init; }
    public int Lost { get; init; }
    public int Duplicated { get; init; }
    public int Errors { get; init; }
    public double WallSeconds { get; init; }
    public double ThroughputPerSecond { get; init; }
    public double P50Ms { get; init; }
    public double P95Ms { get; init; }
    public double P99Ms { get; init; }
    public double MaxMs { get; init; }
    public long? PeakRssBytes { get; init; }
    public double? CpuSeconds { get; init; }
    /// <summary>The load generator's own CPU (user + system) from the first message to the last reply.</summary>
    public double? GeneratorCpuSeconds { get; init; }
    public Dictionary<string, int> ReplySources { get; init; } = [];
    /// <summary>(latency ms, cumulative fraction) points for a CDF plot.</summary>
    public List<double[]> Cdf { get; init; } = [];
    /// <summary>The warm-up phase (null when --warmup was 0).</summary>
    public WarmupResult? Warmup { get; init; }
}

/// <summary>
/// K simulated users on K WebSocket connections. Latency runs from the moment a message was due to be sent
/// (not when it actually left), so a slow server cannot hide its queueing (coordinated omission).
/// The generator shares the box with the server, so its own CPU per message is kept small and reported: frames are
/// encoded once per user (<see cref="SendFrameEncoder"/>), replies are scanned in place (<see cref="ServerFrame"/>)
/// and matched by number (<see cref="ReplyLedger"/>), one receive loop per connection also sends the next message in
/// the closed loop, and latencies go into the HdrHistogram after the run.
/// </summary>
public static class LoadGenerator
{
    public static async Task<LoadResult> RunAsync(MoltBotServer server, LoadSettings s, CancellationToken ct)
    {
        string token = await server.GetTokenAsync(ct);
        // Without a warm-up the server's CPU counts from here: the connections' set-up is part of what the run cost.
        var cpuBefore = server.CpuTime();

        // Connect everyone first: the measurement is about messages, not handshakes.
        var clients = new GatewayClient[s.Connections];
        for (int i = 0; i < clients.Length; i += 50)
        {
            await Task.WhenAll(Enumerable.Range(i, Math.Min(50, clients.Length - i)).Select(async k =>
                clients[k] = await GatewayClient.ConnectAsync(server.Url, token, $"load-{k}", ct)));
        }
        WarmupResult? warmup = null;
        if (s.WarmupMessagesPerConnection > 0)
        {
            // Own id prefix ("w7-"), so a warm-up reply arriving during the measured phase shows up as an error, not a latency.
            var warm = Users(clients, "w", s.WarmupMessagesPerConnection, s.Text);
            var warmWall = Stopwatch.StartNew();
            await RunPhaseAsync(warm, s, ct);
            warmWall.Stop();
            bool? modelsLoaded = server.StartedHere ? await server.WaitForModelsLoadedAsync(TimeSpan.FromSeconds(60), ct) : null;
            var (wSent, wAnswered, wDuplicated, wErrors) = Totals(warm);
            warmup = new WarmupResult
            {
                Sent = wSent, Answered = wAnswered, Lost = wSent - wAnswered, Duplicated = wDuplicated, Errors = wErrors,
                WallSeconds = warmWall.Elapsed.TotalSeconds, ModelsLoaded = modelsLoaded,
            };
            cpuBefore = server.CpuTime();
        }

        var users = Users(clients, "", s.MessagesPerConnection, s.Text);
        var ownCpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        await RunPhaseAsync(users, s, ct);
        wall.Stop();
        var ownCpuAfter = Process.GetCurrentProcess().TotalProcessorTime;

        foreach (var c in clients) await c.DisposeAsync();
        var cpuAfter = server.CpuTime();

        var histogram = new LongHistogram(TimeStamp.Seconds(120), 3);
        var sources = new Dictionary<string, int>();
        foreach (var u in users)
        {
            foreach (long us in u.Ledger.LatenciesMicroseconds()) histogram.RecordValue(us);
            foreach (var (source, count) in u.Sources)
            {
                string key = System.Text.Encoding.UTF8.GetString(source);
                sources[key] = sources.GetValueOrDefault(key) + count;
            }
        }
        var (sent, answered, duplicated, errors) = Totals(users);
        return new LoadResult
        {
            Settings = s,
            Sent = sent,
            Answered = answered,
            Lost = sent - answered,
            Duplicated = duplicated,
            Errors = errors,
            WallSeconds = wall.Elapsed.TotalSeconds,
            ThroughputPerSecond = answered / wall.Elapsed.TotalSeconds,
            P50Ms = Ms(histogram, 50),
            P95Ms = Ms(histogram, 95),
            P99Ms = Ms(histogram, 99),
            MaxMs = histogram.GetMaxValue() / 1000.0,
            PeakRssBytes = server.PeakRssBytes(),
            CpuSeconds = cpuBefore is { } b && cpuAfter is { } a ? (a - b).TotalSeconds : null,
            GeneratorCpuSeconds = (ownCpuAfter - ownCpuBefore).TotalSeconds,
            ReplySources = sources,
            Cdf = histogram.TotalCount == 0 ? [] : Enumerable.Range(0, 101).Select(p => new[] { Ms(histogram, p), p / 100.0 }).ToList(),
            Warmup = warmup,
        };
    }

    /// <summary>One user per connection for a phase: ids "PREFIX{k}-{n}".</summary>
    private static User[] Users(GatewayClient[] clients, string phasePrefix, int messages, string text) =>
        clients.Select((c, k) => new User(c, new ReplyLedger($"{phasePrefix}{k}-", messages), new SendFrameEncoder($"{phasePrefix}{k}-", text))).ToArray();

    /// <summary>Every user's loop until each has all its replies or gave up (the watchdog aborts a user stuck past the reply timeout).</summary>
    private static async Task RunPhaseAsync(User[] users, LoadSettings s, CancellationToken ct)
    {
        using var phaseCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var watchdog = WatchdogAsync(users, s.ReplyTimeout, phaseCts.Token);
        await Task.WhenAll(users.Select((u, k) => UserAsync(u, k, s, ct)));
        phaseCts.Cancel();
        try { await watchdog; } catch (OperationCanceledException) { }
    }

    private static (int Sent, int Answered, int Duplicated, int Errors) Totals(User[] users)
    {
        int sent = 0, answered = 0, duplicated = 0, errors = 0;
        foreach (var u in users)
        {
            sent += u.Ledger.Sent;
            answered += u.Ledger.Answered;
            duplicated += u.Ledger.Duplicated;
            errors += u.Errors + u.Ledger.Unmatched; // a reply to an id nobody sent is the server's mistake
        }
        return (sent, answered, duplicated, errors);
    }

    /// <summary>One connection's loop: receives every frame; in the closed loop, each first reply sends the next message.</summary>
    private static async Task UserAsync(User u, int k, LoadSettings s, CancellationToken ct)
    {
        var ledger = u.Ledger;
        int n = ledger.Messages;
        Task sender = Task.CompletedTask;
        try
        {
            if (n == 0) return;
            if (s.Rate > 0) sender = SendAtRateAsync(u, k, s, ct);
            else await SendAsync(u, 0, Stopwatch.GetTimestamp(), ct);
            while (ledger.Answered < n)
            {
                int length = await u.Client.ReceiveFrameAsync(ct);
                long now = Stopwatch.GetTimestamp();
                u.LastProgress = now;
                var frame = ServerFrame.Scan(u.Client.Frame(length));
                switch (frame.Kind)
                {
                    case ServerFrameKind.Final:
                        int answered = ledger.RecordFinal(frame.ReplyTo, now);
                        if (answered < 0) break;
                        u.CountSource(frame.Source);
                        // Closed loop: this user waits for its answer before saying the next thing.
                        if (s.Rate <= 0 && answered == ledger.Sent - 1 && ledger.Sent < n) await SendAsync(u, ledger.Sent, Stopwatch.GetTimestamp(), ct);
                        break;
                    case ServerFrameKind.Error:
                        u.Errors++;
                        break;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or System.Net.WebSockets.WebSocketException or IOException or ObjectDisposedException)
        {
            // Reply timeout (the watchdog aborted the socket), a dropped connection or Ctrl+C: what is missing counts as lost.
            u.Client.Abort();
        }
        try { await sender; } catch (Exception ex) when (ex is OperationCanceledException or System.Net.WebSockets.WebSocketException or IOException or ObjectDisposedException) { }
        u.Done = true;
    }

    private static ValueTask SendAsync(User u, int i, long due, CancellationToken ct)
    {
        u.Ledger.MarkSent(i, due);
        u.LastProgress = Stopwatch.GetTimestamp();
        return u.Client.SendEncodedAsync(u.Encoder.Frame(i), ct);
    }

    /// <summary>Open loop at a fixed total rate: this user's messages are spread evenly and never wait for replies.</summary>
    private static async Task SendAtRateAsync(User u, int k, LoadSettings s, CancellationToken ct)
    {
        double interval = s.Connections / s.Rate; // seconds between this user's messages
        long start = Stopwatch.GetTimestamp() + (long)(Stopwatch.Frequency * interval * k / Math.Max(1, s.Connections));
        for (int i = 0; i < u.Ledger.Messages; i++)
        {
            long at = start + (long)(Stopwatch.Frequency * interval * i);
            long wait = at - Stopwatch.GetTimestamp();
            if (wait > 0) await Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency), ct);
            await SendAsync(u, i, at, ct);
        }
    }

    /// <summary>Aborts a user's connection when it has waited longer than the reply timeout for anything: the rest is lost.</summary>
    private static async Task WatchdogAsync(User[] users, TimeSpan timeout, CancellationToken ct)
    {
        long limit = (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(250)); // one timer for the whole run, no drift
        while (await tick.WaitForNextTickAsync(ct))
        {
            long now = Stopwatch.GetTimestamp();
            foreach (var u in users)
            {
                // Only a user with a message in flight waits for something (at a low --rate a user may idle longer than that).
                if (!u.Done && u.Ledger.Sent > u.Ledger.Answered && now - Volatile.Read(ref u.LastProgress) > limit) u.Client.Abort();
            }
        }
    }

    private sealed class User(GatewayClient client, ReplyLedger ledger, SendFrameEncoder encoder)
    {
        public GatewayClient Client { get; } = client;
        public ReplyLedger Ledger { get; } = ledger;
        public SendFrameEncoder Encoder { get; } = encoder;
        public long LastProgress = Stopwatch.GetTimestamp();
        public volatile bool Done;
        public int Errors;
        public List<(byte[] Source, int Count)> Sources { get; } = [];

        /// <summary>Replies per source (a handful of distinct values): compared as bytes, a string only for a new one.</summary>
        public void CountSource(ReadOnlySpan<byte> source)
        {
            for (int i = 0; i < Sources.Count; i++)
            {
                if (source.SequenceEqual(Sources[i].Source))
                {
                    Sources[i] = (Sources[i].Source, Sources[i].Count + 1);
                    return;
                }
            }
            Sources.Add((source.ToArray(), 1));
        }
    }

    private static double Ms(LongHistogram h, double percentile) =>
        h.TotalCount == 0 ? double.NaN : h.GetValueAtPercentile(percentile) / 1000.0;

    public static string ToJson(object result) => JsonSerializer.Serialize(result, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true });
}
