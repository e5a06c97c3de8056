using Microsoft.AspNetCore.Builder;
using MoltBot.Contracts.Diagnostics;
using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;
using MoltBot.DevTools;

namespace MoltBot.Tests.DevTools;

public class TraceReplayTests
{
    /// <summary>A deterministic handler that also records a dialog decision, like the dialog manager does.</summary>
    private static DelegateHandler Deciding(string prefix, IServiceProvider? _ = null) => new(async (e, r, ct) =>
    {
        await r.FinalAsync(new Reply(prefix + e.Text.ToUpperInvariant()) { Source = "test" }, ct);
    });

    private static Action<WebApplicationBuilder> WithHandler(IMessageHandler handler, IChannelAdapter? adapter = null) => b =>
    {
        b.Services.AddSingleton(handler);
        if (adapter is not null) b.Services.AddSingleton(adapter);
    };

    private static async Task<string> RecordAsync(int messages)
    {
        var adapter = new RecordingAdapter();
        var host = await TestHost.StartAsync(new Dictionary<string, string> { ["Trace:Enabled"] = "true" },
            WithHandler(Deciding("> "), adapter));
        var queue = host.Services.GetRequiredService<IInboundQueue>();
        for (int i = 0; i < messages; i++) await queue.EnqueueAsync(RecordingAdapter.Message("u" + (i % 2), "hello " + i), CancellationToken.None);
        await adapter.WaitForFinalsAsync(messages, TimeSpan.FromSeconds(30));
        await host.StopAsync();
        await host.App.DisposeAsync();
        return Path.Combine(host.DataDirectory, "traces");
    }

    [Fact]
    public async Task Tracing_records_received_routed_and_reply_per_conversation()
    {
        string dir = await RecordAsync(4);
        Assert.Equal(2, Directory.GetFiles(dir, "*.jsonl").Length); // one file per conversation
        var events = await TraceFile.ReadAsync(dir, CancellationToken.None);
        Assert.Equal(4, events.Count(e => e.Stage == TraceStages.Received));
        Assert.Equal(4, events.Count(e => e.Stage == TraceStages.Routed && e.ElapsedMs is not null));
        var reply = events.First(e => e.Stage == TraceStages.Reply);
        Assert.StartsWith("> HELLO", reply.Data!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task Replay_of_an_unchanged_build_shows_no_difference()
    {
        string dir = await RecordAsync(3);
        var events = await TraceFile.ReadAsync(dir, CancellationToken.None);
        var result = await new TraceReplayer().ReplayAsync(events, TestArgs(), CancellationToken.None, WithHandler(Deciding("> ")));
        Assert.Equal(3, result.Messages);
        Assert.Empty(result.Differences);
    }

    [Fact]
    public async Task Replay_reports_a_changed_reply()
    {
        string dir = await RecordAsync(2);
        var events = await TraceFile.ReadAsync(dir, CancellationToken.None);
        var result = await new TraceReplayer().ReplayAsync(events, TestArgs(), CancellationToken.None, WithHandler(Deciding("! ")));
        Assert.Equal(2, result.Differences.Count);
        Assert.All(result.Differences, d => Assert.Equal(TraceStages.Reply, d.Stage));
        Assert.Contains("> HELLO", result.Differences[0].Expected);
        Assert.Contains("! HELLO", result.Differences[0].Actual);
    }

    [Fact]
    public async Task A_corrupt_trace_line_is_reported_with_file_and_line()
    {
        string file = Path.GetTempFileName();
        await File.WriteAllLinesAsync(file, ["{\"conversationKey\":\"a\",\"messageId\":\"m\",\"stage\":\"received\",\"timestampMs\":1}", "{not json"]);
        var ex = await Assert.ThrowsAsync<InvalidDataException>(() => TraceFile.ReadAsync(file, CancellationToken.None));
        Assert.Contains(file + ":2", ex.Message);
        File.Delete(file);
    }

    [Fact]
    public void Perf_breakdown_from_trace_and_from_prometheus_histograms()
    {
        var events = Enumerable.Range(1, 100).Select(i => new TraceEvent("c", "m" + i, "handle", 0, i, null)).ToList();
        var stats = Assert.Single(PerfReport.FromTrace(events));
        Assert.Equal((100, 50d, 95d, 99d, 100d), (stats.Count, stats.P50, stats.P95, stats.P99, stats.Max));

        string metrics = """
            moltbot_stage_seconds_bucket{stage="handle",le="0.001"} 0
            moltbot_stage_seconds_bucket{stage="handle",le="0.002"} 50
            moltbot_stage_seconds_bucket{stage="handle",le="0.004"} 100
            moltbot_stage_seconds_bucket{stage="handle",le="+Inf"} 100
            moltbot_stage_seconds_sum{stage="handle"} 0.25
            """;
        var live = Assert.Single(PerfReport.FromPrometheus(metrics));
        Assert.Equal(100, live.Count);
        Assert.Equal(2.0, live.P50, 3);   // 50th of 100 sits at the 2 ms bound
        Assert.Equal(3.8, live.P95, 3);   // 95 → 2 + (45/50)·2 ms
        Assert.Equal(4.0, live.Max, 3);
        Assert.Contains("handle", PerfReport.Format([live]));
    }

    private static string[] TestArgs() =>
        ["--Models:Directory", Path.Combine(RepoRoot.Path, "models"), "--Log:Console", "none"];
}
