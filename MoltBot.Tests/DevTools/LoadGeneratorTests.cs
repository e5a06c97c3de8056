using System.Text;
using System.Text.Json;
using MoltBot.Bench.Load;

namespace MoltBot.Tests.DevTools;

/// <summary>
/// The load generator's bookkeeping (MoltBot.Bench `load`): pre-encoded send frames, the in-place reply scan and the
/// per-user ledger that matches every reply to its request, and a real run against a real host.
/// </summary>
public class LoadGeneratorTests
{
    [Fact]
    public void A_pre_encoded_send_frame_is_the_json_the_protocol_expects_for_every_message_number()
    {
        const string text = "say \"hi\" to 東京\n/time";
        var encoder = new SendFrameEncoder("7-", text);
        foreach (int n in new[] { 0, 9, 10, 123, 99_999, int.MaxValue })
        {
            using var doc = JsonDocument.Parse(encoder.Frame(n));
            Assert.Equal("send", doc.RootElement.GetProperty("type").GetString());
            Assert.Equal("7-" + n, doc.RootElement.GetProperty("id").GetString());
            Assert.Equal(text, doc.RootElement.GetProperty("text").GetString());
        }
        Assert.Throws<ArgumentException>(() => new SendFrameEncoder("a\"b-", text));
    }

    [Fact]
    public void The_scan_finds_the_reply_fields_past_nested_values_and_classifies_other_frames()
    {
        var final = ServerFrame.Scan("""{"type":"reply.final","seq":4,"replyTo":"3-17","messageId":"gw_1","text":"It is 10:00","failed":false,"card":{"kind":"time","rows":[{"source":"x"}]},"source":"skill:time","timestampMs":1}"""u8);
        Assert.Equal(ServerFrameKind.Final, final.Kind);
        Assert.Equal("3-17", Encoding.UTF8.GetString(final.ReplyTo));
        Assert.Equal("skill:time", Encoding.UTF8.GetString(final.Source));

        var escaped = ServerFrame.Scan("""{"type":"reply.final","replyTo":"3-\u0031","source":"skill\u003atime"}"""u8);
        Assert.Equal(0, escaped.ReplyTo.Length); // an escaped id is none we sent: it will not match
        Assert.Equal("skill:time", Encoding.UTF8.GetString(escaped.Source));

        Assert.Equal(ServerFrameKind.Other, ServerFrame.Scan("""{"type":"typing","seq":3,"replyTo":"3-17","active":true}"""u8).Kind);
        Assert.Equal(ServerFrameKind.Other, ServerFrame.Scan("""{"type":"ack","seq":2,"id":"3-17","messageId":"gw_1","duplicate":false}"""u8).Kind);
        Assert.Equal(ServerFrameKind.Error, ServerFrame.Scan("""{"type":"error","seq":5,"code":"queue_full","message":"busy","id":"3-18"}"""u8).Kind);
        Assert.Equal(ServerFrameKind.Error, ServerFrame.Scan("""{"type":"reply.fin"""u8).Kind);
        Assert.Equal(ServerFrameKind.Error, ServerFrame.Scan("""[1,2]"""u8).Kind);
        Assert.Equal(ServerFrameKind.Error, ServerFrame.Scan("""{"type":5}"""u8).Kind);
    }

    [Fact]
    public void The_ledger_matches_replies_to_sent_messages_and_counts_duplicates_strays_and_the_missing()
    {
        var ledger = new ReplyLedger("7-", 4);
        long t = 1_000;
        for (int n = 0; n < 3; n++) ledger.MarkSent(n, t + n);

        Assert.Equal(0, ledger.RecordFinal("7-0"u8, 5_000));
        Assert.Equal(1, ledger.RecordFinal("7-1"u8, 6_000));
        Assert.Equal(-1, ledger.RecordFinal("7-1"u8, 7_000)); // duplicate
        Assert.Equal(-1, ledger.RecordFinal("7-1"u8, 8_000)); // a third copy: still one duplicated message
        Assert.Equal(-1, ledger.RecordFinal("7-3"u8, 9_000)); // never sent
        Assert.Equal(-1, ledger.RecordFinal("8-2"u8, 9_000)); // another user's id
        Assert.Equal(-1, ledger.RecordFinal("7-01"u8, 9_000)); // not an id we would write
        Assert.Equal(-1, ledger.RecordFinal("7-"u8, 9_000));
        Assert.Equal(-1, ledger.RecordFinal("7-2x"u8, 9_000));

        Assert.Equal(3, ledger.Sent);
        Assert.Equal(2, ledger.Answered); // "7-2" is lost
        Assert.Equal(1, ledger.Duplicated);
        Assert.Equal(5, ledger.Unmatched);
        long ticksPerMicro = System.Diagnostics.Stopwatch.Frequency / 1_000_000;
        Assert.Equal(new[] { Math.Max(1, (5_000 - 1_000) / ticksPerMicro), Math.Max(1, (6_000 - 1_001) / ticksPerMicro) }, ledger.LatenciesMicroseconds());
    }

    [Theory]
    [InlineData(0)] // closed loop: each user waits for its reply
    [InlineData(200)] // open loop at a fixed total rate
    public async Task A_run_against_a_real_host_answers_every_message_once_and_reports_its_own_cpu(double rate)
    {
        await using var host = await StartUnthrottledHostAsync();
        await using var server = MoltBotServer.Attach(host.BaseAddress, Environment.ProcessId);
        var result = await LoadGenerator.RunAsync(server, new LoadSettings
        {
            Connections = 3,
            MessagesPerConnection = 6,
            Rate = rate,
            Scenario = "skill",
            Text = "/time",
            ReplyTimeout = TimeSpan.FromSeconds(60),
        }, CancellationToken.None);

        Assert.Equal(18, result.Sent);
        Assert.Equal(18, result.Answered);
        Assert.Equal(0, result.Lost);
        Assert.Equal(0, result.Duplicated);
        Assert.Equal(0, result.Errors);
        Assert.Equal(18, result.ReplySources.Values.Sum());
        Assert.True(result.P50Ms > 0 && result.P99Ms >= result.P50Ms, $"p50 {result.P50Ms}, p99 {result.P99Ms}");
        Assert.NotNull(result.GeneratorCpuSeconds);
        Assert.NotNull(result.CpuSeconds); // the attached process (here: this one) is measured with --server-pid
    }

    [Fact]
    public async Task A_warm_up_runs_on_the_same_connections_is_checked_and_kept_out_of_the_measured_figures()
    {
        await using var host = await StartUnthrottledHostAsync();
        await using var server = MoltBotServer.Attach(host.BaseAddress, Environment.ProcessId);
        var result = await LoadGenerator.RunAsync(server, new LoadSettings
        {
            Connections = 2,
            MessagesPerConnection = 3,
            WarmupMessagesPerConnection = 4,
            Scenario = "skill",
            Text = "/time",
            ReplyTimeout = TimeSpan.FromSeconds(60),
        }, CancellationToken.None);

        // The measured phase holds only its own 6 messages; the warm-up's 8 are booked apart, all answered once.
        Assert.Equal(6, result.Sent);
        Assert.Equal(6, result.Answered);
        Assert.Equal(6, result.ReplySources.Values.Sum());
        Assert.Equal(0, result.Errors); // no warm-up reply leaked into the measured ledgers
        var warm = Assert.IsType<WarmupResult>(result.Warmup);
        Assert.Equal(8, warm.Sent);
        Assert.Equal(8, warm.Answered);
        Assert.Equal(0, warm.Lost);
        Assert.Equal(0, warm.Duplicated);
        Assert.Null(warm.ModelsLoaded); // an attached server's model loads cannot be watched
        Assert.Contains("| 8/8 (0, 0) |", BenchReport.Markdown([result]), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "load", "--conections", "5" }, "unknown option '--conections' for load")]
    [InlineData(new[] { "load", "--messages", "x" }, "--messages must be a whole number ≥ 1, not 'x'")]
    [InlineData(new[] { "load", "--warmup", "-1" }, "--warmup must be a whole number ≥ 0, not '-1'")]
    [InlineData(new[] { "load", "--connections", "10,,20" }, "--connections must be a whole number ≥ 1, not ''")]
    [InlineData(new[] { "load", "--rate", "fast" }, "--rate must be a number ≥ 0")]
    [InlineData(new[] { "load", "--url", "localhost:8080" }, "--url must be an absolute http(s) URL")]
    [InlineData(new[] { "load", "--messages", "3", "--messages", "4" }, "option '--messages' given twice")]
    [InlineData(new[] { "load", "7" }, "unexpected argument '7'")]
    [InlineData(new[] { "load", "--scenario", "skill", "--rate" }, "option '--rate' needs a value")]
    [InlineData(new[] { "coldstart", "--connections", "5" }, "unknown option '--connections' for coldstart")]
    [InlineData(new[] { "coldstart", "--runs", "0" }, "--runs must be a whole number ≥ 1, not '0'")]
    public async Task A_command_line_the_bench_cannot_run_is_one_line_and_exit_code_2_before_any_server_starts(string[] args, string message)
    {
        var stderr = new StringWriter();
        // --dll points nowhere: had the bench got as far as starting a server, it would have failed differently.
        int code = await LoadCommand.RunAsync([args[0], "--dll", "/nonexistent/moltbot.dll", .. args[1..]], stderr);
        Assert.Equal(2, code);
        string line = Assert.Single(stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(message, line, StringComparison.Ordinal);
        Assert.StartsWith(args[0] + ": ", line, StringComparison.Ordinal);
    }

    /// <summary>
    /// A value is the next argument even when it starts with "--": server arguments are always options themselves.
    /// (Before, `--server-args "--Inference:NluPolicy student"` set server-args to "true" and dropped the value.)
    /// </summary>
    [Fact]
    public void Server_arguments_that_start_with_dashes_are_the_options_value()
    {
        var o = LoadCommand.Parse(["coldstart", "--server-args", "--Inference:SecondaryLoadDelayMs 0", "--details", "--runs", "3"]);
        Assert.Equal("--Inference:SecondaryLoadDelayMs 0", o["server-args"]);
        Assert.Equal("true", o["details"]);
        Assert.Equal("3", o["runs"]);
        Assert.Equal(3, o.Count);
    }

    /// <summary>A real host whose per-connection rate limit does not get in the simulated users' way (as `load` sets it).</summary>
    private static Task<TestHost> StartUnthrottledHostAsync() => TestHost.StartAsync(new Dictionary<string, string>
    {
        ["Gateway:RatePerSecond"] = "10000",
        ["Gateway:RateBurst"] = "100000",
    });

    /// <summary>Model loads are only known for a server the bench started (its stderr is read), not for one attached with --server-pid.</summary>
    [Fact]
    public async Task An_attached_server_never_reports_its_models_loaded()
    {
        await using var server = MoltBotServer.Attach(new Uri("http://127.0.0.1:9"), Environment.ProcessId);
        Assert.False(server.StartedHere);
        Assert.False(await server.WaitForModelsLoadedAsync(TimeSpan.FromSeconds(1), CancellationToken.None));
    }
}
