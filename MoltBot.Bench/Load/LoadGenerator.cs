using System.Collections.Concurrent;
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
    public Dictionary<string, int> ReplySources { get; init; } = [];
    /// <summary>(latency ms, cumulative fraction) points for a CDF plot.</summary>
    public List<double[]> Cdf { get; init; } = [];
}

/// <summary>
/// K simulated users on K WebSocket connections. Latency runs from the moment a message was due to be sent
/// (not when it actually left), so a slow server cannot hide its queueing (coordinated omission).
/// </summary>
public static class LoadGenerator
{
    public static async Task<LoadResult> RunAsync(MoltBotServer server, LoadSettings s, CancellationToken ct)
    {
        string token = await server.GetTokenAsync(ct);
        var histogram = new LongHistogram(TimeStamp.Seconds(120), 3);
        var finals = new ConcurrentDictionary<string, int>();
        var sources = new ConcurrentDictionary<string, int>();
        int sent = 0, errors = 0;
        var cpuBefore = server.CpuTime();

        // Connect everyone first: the measurement is about messages, not handshakes.
        var clients = new GatewayClient[s.Connections];
        for (int i = 0; i < clients.Length; i += 50)
        {
            await Task.WhenAll(Enumerable.Range(i, Math.Min(50, clients.Length - i)).Select(async k =>
                clients[k] = await GatewayClient.ConnectAsync(server.Url, token, $"load-{k}", ct)));
        }

        var wall = Stopwatch.StartNew();
        await Task.WhenAll(clients.Select((client, k) => Task.Run(() => UserAsync(client, k), ct)));
        wall.Stop();

        async Task UserAsync(GatewayClient client, int k)
        {
            var due = new ConcurrentDictionary<string, long>();
            double interval = s.Rate > 0 ? s.Connections / s.Rate : 0; // seconds between this user's messages
            long start = Stopwatch.GetTimestamp() + (long)(Stopwatch.Frequency * interval * k / Math.Max(1, s.Connections));
            using var readerCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var replies = Channel(readerCts.Token);

            // Reader: every reply.final for this user.
            async Task<int> Read(CancellationToken token)
            {
                int got = 0;
                while (got < s.MessagesPerConnection)
                {
                    using var frame = await client.ReceiveAsync(token);
                    var root = frame.RootElement;
                    switch (root.GetProperty("type").GetString())
                    {
                        case "reply.final":
                            string id = root.GetProperty("replyTo").GetString() ?? "";
                            long now = Stopwatch.GetTimestamp();
                            if (finals.AddOrUpdate(id, 1, (_, n) => n + 1) == 1 && due.TryGetValue(id, out long t0))
                            {
                                lock (histogram) histogram.RecordValue(Math.Max(1, (now - t0) * 1_000_000 / Stopwatch.Frequency));
                                string src = root.TryGetProperty("source", out var so) ? so.GetString() ?? "" : "";
                                sources.AddOrUpdate(src, 1, (_, n) => n + 1);
                                got++;
                            }
                            replies.Writer.TryWrite(id);
                            break;
                        case "error":
                            Interlocked.Increment(ref errors);
                            break;
                    }
                }
                return got;
            }

            var reader = Read(readerCts.Token);
            for (int i = 0; i < s.MessagesPerConnection; i++)
            {
                string id = $"{k}-{i}";
                long at = s.Rate > 0 ? start + (long)(Stopwatch.Frequency * interval * i) : Stopwatch.GetTimestamp();
                long wait = at - Stopwatch.GetTimestamp();
                if (wait > 0) await Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency), ct);
                due[id] = at;
                await client.SendTextAsync(id, s.Text, ct);
                Interlocked.Increment(ref sent);
                if (s.Rate <= 0)
                {
                    // Closed loop: this user waits for its answer before saying the next thing.
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    timeout.CancelAfter(s.ReplyTimeout);
                    try { while (await replies.Reader.ReadAsync(timeout.Token) != id) { } }
                    catch (OperationCanceledException) when (!ct.IsCancellationRequested) { break; }
                }
            }
            readerCts.CancelAfter(s.ReplyTimeout);
            try { await reader; } catch (Exception ex) when (ex is OperationCanceledException or System.Net.WebSockets.WebSocketException) { }
        }

        foreach (var c in clients) await c.DisposeAsync();
        int answered = finals.Count;
        var cpuAfter = server.CpuTime();
        return new LoadResult
        {
            Settings = s,
            Sent = sent,
            Answered = answered,
            Lost = sent - answered,
            Duplicated = finals.Values.Count(n => n > 1),
            Errors = errors,
            WallSeconds = wall.Elapsed.TotalSeconds,
            ThroughputPerSecond = answered / wall.Elapsed.TotalSeconds,
            P50Ms = Ms(histogram, 50),
            P95Ms = Ms(histogram, 95),
            P99Ms = Ms(histogram, 99),
            MaxMs = histogram.GetMaxValue() / 1000.0,
            PeakRssBytes = server.PeakRssBytes(),
            CpuSeconds = cpuBefore is { } b && cpuAfter is { } a ? (a - b).TotalSeconds : null,
            ReplySources = new Dictionary<string, int>(sources),
            Cdf = histogram.TotalCount == 0 ? [] : Enumerable.Range(0, 101).Select(p => new[] { Ms(histogram, p), p / 100.0 }).ToList(),
        };
    }

    private static System.Threading.Channels.Channel<string> Channel(CancellationToken _) =>
        System.Threading.Channels.Channel.CreateBounded<string>(new System.Threading.Channels.BoundedChannelOptions(1024)
        {
            FullMode = System.Threading.Channels.BoundedChannelFullMode.DropOldest, // the waiter only needs the newest ids
        });

    private static double Ms(LongHistogram h, double percentile) =>
        h.TotalCount == 0 ? double.NaN : h.GetValueAtPercentile(percentile) / 1000.0;

    public static string ToJson(object result) => JsonSerializer.Serialize(result, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true });
}
