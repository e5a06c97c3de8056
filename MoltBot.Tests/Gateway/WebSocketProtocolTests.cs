using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Hosting;
using MoltBot.Gateway.WebSockets;

namespace MoltBot.Tests.Gateway;

public class WebSocketProtocolTests
{
    [Fact]
    public async Task Handshake_then_send_streams_ack_typing_deltas_and_final_with_consecutive_seqs()
    {
        var (host, _) = await GatewayFixture.StartAsync();
        await using var _h = host;
        var (client, hello, session) = await WsClient.OpenSessionAsync(GatewayFixture.WebSocketUri(host));
        await using var _c = client;

        Assert.Equal("hello", (string?)hello["type"]);
        Assert.Equal(1, (int)hello["protocol"]!);
        Assert.Equal(15000, (int)hello["heartbeatIntervalMs"]!);
        Assert.Equal(65536, (int)hello["limits"]!["maxFrameBytes"]!);
        Assert.Null(hello["seq"]);
        Assert.Equal("session", (string?)session["type"]);
        Assert.StartsWith("s_", (string?)session["session"]);
        Assert.False((bool)session["resumed"]!);
        Assert.Equal("alice", (string?)session["conversation"]);

        await client.SendAsync(new { type = "send", id = "c1", text = "hello world", lang = "en" });
        var frames = await client.ReceiveUntilAsync("reply.final");
        Assert.Equal(["ack", "typing", "reply.delta", "reply.delta", "reply.delta", "reply.final"], frames.Select(f => (string)f["type"]!));
        Assert.Equal(Enumerable.Range(1, frames.Count).Select(i => (long)i), frames.Select(f => (long)f["seq"]!));
        Assert.Equal("c1", (string?)frames[0]["id"]);
        Assert.False((bool)frames[0]["duplicate"]!);
        Assert.Equal("echo: hello world", string.Concat(frames.Where(f => (string?)f["type"] == "reply.delta").Select(f => (string)f["text"]!)));
        Assert.Equal("echo: hello world", (string?)frames[^1]["text"]);
        Assert.Equal("c1", (string?)frames[^1]["replyTo"]);
        Assert.Equal("en", (string?)frames[^1]["lang"]);

        await client.SendAsync(new { type = "history", limit = 10 });
        var history = await client.ReceiveAsync();
        Assert.Equal("history", (string?)history["type"]);
        var messages = history["messages"]!.AsArray();
        Assert.Equal(["in", "out"], messages.Select(m => (string)m!["direction"]!));
        Assert.Equal("hello world", (string?)messages[0]!["text"]);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-token-0123456789")]
    public async Task Missing_or_wrong_token_closes_with_4001(string? token)
    {
        var (host, _) = await GatewayFixture.StartAsync();
        await using var _h = host;
        await using var client = await WsClient.ConnectAsync(GatewayFixture.WebSocketUri(host));
        await client.ReceiveAsync(); // hello
        await client.SendAsync(new { type = "auth", token, user = "mallory" });
        Assert.Equal(4001, await client.ReceiveCloseAsync());
    }

    [Fact]
    public async Task No_auth_frame_in_time_closes_with_4002()
    {
        var (host, _) = await GatewayFixture.StartAsync(new Dictionary<string, string> { ["Gateway:AuthTimeoutSeconds"] = "1" });
        await using var _h = host;
        await using var client = await WsClient.ConnectAsync(GatewayFixture.WebSocketUri(host));
        await client.ReceiveAsync(); // hello
        Assert.Equal(4002, await client.ReceiveCloseAsync());
    }

    [Fact]
    public async Task Each_malformed_frame_gets_its_error_code_and_the_connection_stays_open()
    {
        var (host, _) = await GatewayFixture.StartAsync();
        await using var _h = host;
        await using var client = await WsClient.ConnectAsync(GatewayFixture.WebSocketUri(host));
        await client.ReceiveAsync(); // hello

        // Before auth: frames that need a session.
        await client.SendAsync(new { type = "send", id = "x", text = "hi" });
        await AssertError(client, "auth_required", sequenced: false);

        await client.SendAsync(new { type = "auth", token = GatewayFixture.Token, user = "bob" });
        Assert.Equal("session", (string?)(await client.ReceiveAsync())["type"]);

        var cases = new (string Frame, string Code)[]
        {
            ("{not json", "invalid_json"),
            ("[1,2,3]", "invalid_frame"),
            ("{\"id\":\"no-type\"}", "invalid_frame"),
            ("{\"type\":42}", "invalid_frame"),
            ("{\"type\":\"teleport\"}", "unknown_type"),
            ("{\"type\":\"send\",\"id\":7,\"text\":\"hi\"}", "invalid_field"),
            ("{\"type\":\"send\",\"id\":\"a\",\"text\":[\"hi\"]}", "invalid_field"),
            ("{\"type\":\"send\",\"id\":\"a\"}", "invalid_field"),
            ("{\"type\":\"send\",\"id\":\"a\",\"text\":\"   \"}", "invalid_field"),
            ("{\"type\":\"history\",\"limit\":\"ten\"}", "invalid_field"),
            ("{\"type\":\"history\",\"limit\":0}", "invalid_field"),
            ("{\"type\":\"typing\",\"active\":\"yes\"}", "invalid_field"),
            ("{\"type\":\"ping\",\"nonce\":{}}", "invalid_field"),
            ("{\"type\":\"send\",\"id\":\"a\",\"text\":\"" + new string('y', 8001) + "\"}", "text_too_long"),
            ("{\"type\":\"auth\",\"token\":\"" + GatewayFixture.Token + "\"}", "already_authenticated"),
        };
        foreach (var (frame, code) in cases)
        {
            await client.SendTextAsync(frame);
            await AssertError(client, code, sequenced: true);
        }

        await client.Socket.SendAsync(new byte[] { 1, 2, 3 }, WebSocketMessageType.Binary, true, CancellationToken.None);
        await AssertError(client, "binary_not_supported", sequenced: true);

        // Still open and working.
        await client.SendAsync(new { type = "ping", nonce = "n1" });
        var pong = await client.ReceiveAsync();
        Assert.Equal("pong", (string?)pong["type"]);
        Assert.Equal("n1", (string?)pong["nonce"]);
        Assert.Equal(WebSocketState.Open, client.Socket.State);
    }

    private static async Task AssertError(WsClient client, string code, bool sequenced)
    {
        var frame = await client.ReceiveAsync();
        Assert.Equal("error", (string?)frame["type"]);
        Assert.Equal(code, (string?)frame["code"]);
        Assert.False(string.IsNullOrEmpty((string?)frame["message"]));
        Assert.Equal(sequenced, frame["seq"] is not null);
    }

    [Fact]
    public async Task Oversized_frame_closes_with_1009()
    {
        var (host, _) = await GatewayFixture.StartAsync(new Dictionary<string, string> { ["Gateway:MaxFrameBytes"] = "4096" });
        await using var _h = host;
        var (client, _, _) = await WsClient.OpenSessionAsync(GatewayFixture.WebSocketUri(host));
        await using var _c = client;
        await client.SendTextAsync("{\"type\":\"send\",\"id\":\"big\",\"text\":\"" + new string('z', 10_000) + "\"}");
        Assert.Equal(1009, await client.ReceiveCloseAsync());
    }

    [Fact]
    public async Task Silent_client_is_closed_within_heartbeat_interval_plus_timeout_while_a_reading_client_stays()
    {
        const int interval = 1, timeout = 2;
        var (host, _) = await GatewayFixture.StartAsync(new Dictionary<string, string>
        {
            ["Gateway:HeartbeatIntervalSeconds"] = interval.ToString(),
            ["Gateway:HeartbeatTimeoutSeconds"] = timeout.ToString(),
        });
        await using var _h = host;
        var registry = host.Services.GetRequiredService<SessionRegistry>();
        var uri = GatewayFixture.WebSocketUri(host);

        var (reading, _, _) = await WsClient.OpenSessionAsync(uri, "reader");
        await using var _r = reading;
        // A reader keeps receiving, so its WebSocket answers the server's pings.
        var readLoop = Task.Run(async () =>
        {
            var buffer = new byte[4096];
            try { while (true) await reading.Socket.ReceiveAsync(buffer, CancellationToken.None); }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException) { }
        });

        var (silent, _, _) = await WsClient.OpenSessionAsync(uri, "silent");
        await using var _s = silent;
        var clock = Stopwatch.StartNew();
        Assert.Equal(2, registry.ConnectionCount);
        // The silent client never reads again, so it never answers a ping.
        while (registry.ConnectionCount > 1 && clock.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(50);
        var closedAfter = clock.Elapsed;

        Assert.Equal(1, registry.ConnectionCount);
        Assert.True(closedAfter <= TimeSpan.FromSeconds(interval + timeout + 3), $"closed after {closedAfter}");
        // The reading client is still there after more than one interval + timeout.
        await Task.Delay(TimeSpan.FromSeconds(interval + timeout + 1) - closedAfter > TimeSpan.Zero ? TimeSpan.FromSeconds(interval + timeout + 1) - closedAfter : TimeSpan.Zero);
        Assert.Equal(1, registry.ConnectionCount);
        Assert.Equal(WebSocketState.Open, reading.Socket.State);
    }

    [Fact]
    public async Task Resume_after_server_side_drop_delivers_exactly_the_missed_events_once()
    {
        var (host, handler) = await GatewayFixture.StartAsync();
        await using var _h = host;
        var registry = host.Services.GetRequiredService<SessionRegistry>();
        var uri = GatewayFixture.WebSocketUri(host);

        var (first, _, session) = await WsClient.OpenSessionAsync(uri);
        string sessionId = (string)session["session"]!;
        await first.SendAsync(new { type = "send", id = "m1", text = "one two" });
        var seen = await first.ReceiveUntilAsync("reply.final");
        long lastSeen = (long)seen[^1]["seq"]!;

        await first.SendAsync(new { type = "send", id = "m2", text = "three four five" });
        var ack = await first.ReceiveAsync();
        Assert.Equal("ack", (string?)ack["type"]);
        lastSeen = (long)ack["seq"]!;
        Assert.Equal(1, registry.AbortAll()); // the server drops the connection; the client never reads the rest
        await first.DisposeAsync();

        // typing + 4 deltas ("echo:", " three", " four", " five") + final are published while disconnected.
        var s = registry.Find(sessionId)!;
        var wait = Stopwatch.StartNew();
        while (handler.Calls.GetValueOrDefault("three four five") == 0 || s.LastSeq < lastSeen + 6)
        {
            Assert.True(wait.Elapsed < TimeSpan.FromSeconds(30), "reply was not produced");
            await Task.Delay(20);
        }
        long newest = s.LastSeq;

        var (second, _, resumed) = await WsClient.OpenSessionAsync(uri, resume: new { session = sessionId, lastSeq = lastSeen });
        await using var _s = second;
        Assert.Equal("session", (string?)resumed["type"]);
        Assert.True((bool)resumed["resumed"]!);
        Assert.Equal(sessionId, (string?)resumed["session"]);

        var missed = await second.ReceiveUntilAsync("reply.final");
        Assert.Equal(Enumerable.Range((int)lastSeen + 1, (int)(newest - lastSeen)).Select(i => (long)i), missed.Select(f => (long)f["seq"]!));
        Assert.Equal(["typing", "reply.delta", "reply.delta", "reply.delta", "reply.delta", "reply.final"], missed.Select(f => (string)f["type"]!));
        Assert.Equal("echo: three four five", (string?)missed[^1]["text"]);

        // Nothing is delivered twice: the next frame is the answer to a fresh ping, with the next sequence number.
        await second.SendAsync(new { type = "ping" });
        var pong = await second.ReceiveAsync();
        Assert.Equal("pong", (string?)pong["type"]);
        Assert.Equal(newest + 1, (long)pong["seq"]!);
        Assert.Equal(1, handler.Calls["three four five"]);
    }

    [Fact]
    public async Task Resume_of_an_unknown_session_reports_resume_failed_and_starts_a_new_session()
    {
        var (host, _) = await GatewayFixture.StartAsync();
        await using var _h = host;
        await using var client = await WsClient.ConnectAsync(GatewayFixture.WebSocketUri(host));
        await client.ReceiveAsync();
        await client.SendAsync(new { type = "auth", token = GatewayFixture.Token, resume = new { session = "s_nope", lastSeq = 3 } });
        var error = await client.ReceiveAsync();
        Assert.Equal("resume_failed", (string?)error["code"]);
        var session = await client.ReceiveAsync();
        Assert.Equal("session", (string?)session["type"]);
        Assert.False((bool)session["resumed"]!);
    }

    [Fact]
    public async Task Resending_a_client_message_id_returns_the_original_ack_and_reply_without_a_second_reply()
    {
        var (host, handler) = await GatewayFixture.StartAsync();
        await using var _h = host;
        var (client, _, _) = await WsClient.OpenSessionAsync(GatewayFixture.WebSocketUri(host));
        await using var _c = client;

        await client.SendAsync(new { type = "send", id = "same", text = "only once" });
        var original = await client.ReceiveUntilAsync("reply.final");
        await client.SendAsync(new { type = "send", id = "same", text = "only once" });
        var again = await client.ReceiveUntilAsync("reply.final");

        Assert.Equal(["ack", "reply.final"], again.Select(f => (string)f["type"]!));
        Assert.True((bool)again[0]["duplicate"]!);
        Assert.Equal((string?)original[0]["messageId"], (string?)again[0]["messageId"]);
        Assert.Equal((string?)original[^1]["text"], (string?)again[1]["text"]);
        Assert.True((bool)again[1]["duplicate"]!);

        // Prove no second handling is under way: a ping is answered next, and the handler ran once.
        await client.SendAsync(new { type = "ping" });
        Assert.Equal("pong", (string?)(await client.ReceiveAsync())["type"]);
        Assert.Equal(1, handler.Calls["only once"]);
    }

    [Fact]
    public async Task Rate_abuse_gets_error_frames_then_close_1008()
    {
        var (host, _) = await GatewayFixture.StartAsync(new Dictionary<string, string>
        {
            ["Gateway:RatePerSecond"] = "0.1",
            ["Gateway:RateBurst"] = "3",
            ["Gateway:RateViolationsBeforeClose"] = "3",
        });
        await using var _h = host;
        await using var client = await WsClient.ConnectAsync(GatewayFixture.WebSocketUri(host));
        await client.ReceiveAsync();
        await client.SendAsync(new { type = "auth", token = GatewayFixture.Token }); // frame 1 of the burst
        await client.ReceiveAsync();
        for (int i = 0; i < 5; i++) await client.SendAsync(new { type = "ping" });

        Assert.Equal("pong", (string?)(await client.ReceiveAsync())["type"]);
        Assert.Equal("pong", (string?)(await client.ReceiveAsync())["type"]);
        var e1 = await client.ReceiveAsync();
        Assert.Equal("rate_limited", (string?)e1["code"]);
        Assert.True((int)e1["retryAfterMs"]! > 0);
        Assert.Equal("rate_limited", (string?)(await client.ReceiveAsync())["code"]);
        Assert.Equal(1008, await client.ReceiveCloseAsync());
    }

    [Fact]
    public async Task Connections_over_the_limit_are_refused_with_503()
    {
        var (host, _) = await GatewayFixture.StartAsync(new Dictionary<string, string> { ["Gateway:MaxConnections"] = "2" });
        await using var _h = host;
        var uri = GatewayFixture.WebSocketUri(host);
        await using var a = await WsClient.ConnectAsync(uri);
        await using var b = await WsClient.ConnectAsync(uri);
        var third = new ClientWebSocket();
        third.Options.CollectHttpResponseDetails = true;
        await Assert.ThrowsAsync<WebSocketException>(() => third.ConnectAsync(uri, CancellationToken.None));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, third.HttpStatusCode);
        Assert.True(third.HttpResponseHeaders!.ContainsKey("Retry-After"));
        third.Dispose();
    }

    [Fact]
    public async Task Slow_reader_is_disconnected_instead_of_buffering_without_bound()
    {
        var (host, handler) = await GatewayFixture.StartAsync(new Dictionary<string, string> { ["Gateway:SendBufferFrames"] = "16" });
        await using var _h = host;
        var registry = host.Services.GetRequiredService<SessionRegistry>();
        var (client, _, _) = await WsClient.OpenSessionAsync(GatewayFixture.WebSocketUri(host));
        await using var _c = client;
        // 400 deltas of 64 KiB (~26 MB) while the client reads nothing: more than the socket buffers hold.
        await client.SendAsync(new { type = "send", id = "f", text = "flood:400:65536" });
        var wait = Stopwatch.StartNew();
        while (registry.SlowReaderDisconnects == 0 && wait.Elapsed < TimeSpan.FromSeconds(60)) await Task.Delay(50);
        Assert.Equal(1, registry.SlowReaderDisconnects);
        while (registry.ConnectionCount > 0 && wait.Elapsed < TimeSpan.FromSeconds(60)) await Task.Delay(50);
        Assert.Equal(0, registry.ConnectionCount);
    }

    [Fact]
    public async Task A_thousand_concurrent_connections_each_complete_a_round_trip()
    {
        const int n = 1000;
        var (host, handler) = await GatewayFixture.StartAsync();
        await using var _h = host;
        var uri = GatewayFixture.WebSocketUri(host);
        var registry = host.Services.GetRequiredService<SessionRegistry>();

        // Open all connections first (a bounded number of handshakes at a time), so all 1,000 are open together.
        using var gate = new SemaphoreSlim(64);
        var clients = await Task.WhenAll(Enumerable.Range(0, n).Select(async i =>
        {
            await gate.WaitAsync();
            try { return (await WsClient.OpenSessionAsync(uri, "user" + i)).Client; }
            finally { gate.Release(); }
        }));
        Assert.Equal(n, registry.ConnectionCount);

        var replies = await Task.WhenAll(clients.Select(async (c, i) =>
        {
            await c.SendAsync(new { type = "send", id = "m", text = "msg " + i });
            var frames = await c.ReceiveUntilAsync("reply.final");
            return (string)frames[^1]["text"]!;
        }));
        for (int i = 0; i < n; i++) Assert.Equal("echo: msg " + i, replies[i]);
        Assert.Equal(n, handler.TotalCalls);
        await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask()));
    }

    [Fact]
    public async Task New_sessions_over_the_limit_are_refused_with_1013()
    {
        var (host, _) = await GatewayFixture.StartAsync(new Dictionary<string, string> { ["Gateway:MaxSessions"] = "1" });
        await using var _h = host;
        var uri = GatewayFixture.WebSocketUri(host);
        var (first, _, _) = await WsClient.OpenSessionAsync(uri, "one");
        await using var _f = first;
        await using var second = await WsClient.ConnectAsync(uri);
        await second.ReceiveAsync();
        await second.SendAsync(new { type = "auth", token = GatewayFixture.Token, user = "two" });
        Assert.Equal(1013, await second.ReceiveCloseAsync());
    }

    [Fact]
    public async Task A_full_inbound_queue_answers_send_with_queue_full_and_every_acked_message_is_answered()
    {
        var (host, handler) = await GatewayFixture.StartAsync(new Dictionary<string, string>
        {
            ["Pipeline:InboundCapacity"] = "1",
            ["Pipeline:ShardCount"] = "1",
            ["Pipeline:ShardCapacity"] = "1",
        });
        await using var _h = host;
        var (client, _, _) = await WsClient.OpenSessionAsync(GatewayFixture.WebSocketUri(host));
        await using var _c = client;

        await client.SendAsync(new { type = "send", id = "h", text = "hold" });
        var acked = new List<string>();
        await client.ReceiveUntilAsync("ack");
        acked.Add("h");
        await handler.WaitForCallsAsync(1, TimeSpan.FromSeconds(30));
        JsonObject? refusal = null;
        for (int i = 0; i < 10 && refusal is null; i++)
        {
            await client.SendAsync(new { type = "send", id = "q" + i, text = "queued " + i });
            var frames = await client.ReceiveUntilAsync("ack", "error");
            var last = frames[^1];
            if ((string?)last["type"] == "error") refusal = last;
            else acked.Add((string)last["id"]!);
        }
        Assert.NotNull(refusal);
        Assert.Equal("queue_full", (string?)refusal!["code"]);
        Assert.True((int)refusal["retryAfterMs"]! > 0);
        Assert.StartsWith("q", (string?)refusal["id"]);

        handler.Release();
        var finals = new HashSet<string>();
        while (finals.Count < acked.Count)
        {
            var f = await client.ReceiveAsync();
            if ((string?)f["type"] == "reply.final") finals.Add((string)f["replyTo"]!);
        }
        Assert.Equal(acked.ToHashSet(), finals);
    }

    [Fact]
    public async Task A_session_is_not_resumable_after_the_configured_window()
    {
        var (host, _) = await GatewayFixture.StartAsync(new Dictionary<string, string> { ["Gateway:ResumeWindowSeconds"] = "1" });
        await using var _h = host;
        var registry = host.Services.GetRequiredService<SessionRegistry>();
        var uri = GatewayFixture.WebSocketUri(host);
        var (first, _, session) = await WsClient.OpenSessionAsync(uri);
        string sessionId = (string)session["session"]!;
        await first.DisposeAsync();

        var wait = Stopwatch.StartNew();
        while (registry.Find(sessionId) is not null && wait.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(100);
        Assert.Null(registry.Find(sessionId));

        await using var second = await WsClient.ConnectAsync(uri);
        await second.ReceiveAsync();
        await second.SendAsync(new { type = "auth", token = GatewayFixture.Token, resume = new { session = sessionId, lastSeq = 0 } });
        Assert.Equal("resume_failed", (string?)(await second.ReceiveAsync())["code"]);
        var fresh = await second.ReceiveAsync();
        Assert.False((bool)fresh["resumed"]!);
        Assert.NotEqual(sessionId, (string?)fresh["session"]);
    }

    [Fact]
    public async Task Server_shutdown_closes_connections_with_1001()
    {
        var (host, _) = await GatewayFixture.StartAsync();
        await using var _h = host;
        var (client, _, _) = await WsClient.OpenSessionAsync(GatewayFixture.WebSocketUri(host));
        await using var _c = client;
        var closing = client.ReceiveCloseAsync();
        await host.StopAsync();
        Assert.Equal(1001, await closing);
    }

    [Fact]
    public async Task A_reply_finished_during_the_shutdown_drain_still_reaches_the_open_socket()
    {
        var stoppingBegun = new StoppingSignal();
        var (host, handler) = await GatewayFixture.StartAsync(configure: b => b.Services.AddHostedService(_ => stoppingBegun));
        await using var _h = host;
        var (client, _, _) = await WsClient.OpenSessionAsync(GatewayFixture.WebSocketUri(host));
        await using var _c = client;
        await client.SendAsync(new { type = "send", id = "c1", text = "hold" });
        await client.ReceiveUntilAsync("ack");

        var stopping = host.StopAsync();   // like SIGTERM: the message is in flight
        await stoppingBegun.Begun.WaitAsync(TimeSpan.FromSeconds(30)); // the host is stopping (instead of a 300 ms wait)
        handler.Release();                 // it finishes while the pipeline drains

        var frames = await client.ReceiveUntilAsync("reply.final");
        Assert.Equal("echo: hold", (string?)frames[^1]["text"]);
        Assert.Equal(1001, await client.ReceiveCloseAsync());
        await stopping;
    }

    /// <summary>
    /// Registered after the modules, so its stopping phase runs just before the pipeline's drain (stopping phases run
    /// one at a time, in reverse order of registration): it tells the test that the host has begun to stop.
    /// </summary>
    private sealed class StoppingSignal : IHostedLifecycleService
    {
        private readonly TaskCompletionSource _begun = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Begun => _begun.Task;

        public Task StoppingAsync(CancellationToken cancellationToken)
        {
            _begun.TrySetResult();
            return Task.CompletedTask;
        }

        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
