using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using MoltBot.Cli;
using MoltBot.DevTools.Sandbox;
using Spectre.Console;

namespace MoltBot.Tests.DevTools;

/// <summary>
/// `moltbot sandbox` end to end: the five fake platforms and the web chat, MoltBot on the bundled models, the user
/// simulator, the report and the exit code.
/// </summary>
public partial class SandboxTests : IDisposable
{
    private static readonly string[] Platforms = ["whatsapp", "imessage", "telegram", "discord", "slack", "web"];

    private static string[] HostArgs() => ["--Models:Directory", Path.Combine(RepoRoot.Path, "models"), "--Log:Console", "none"];

    private static (IAnsiConsole Console, ObservedStringWriter Output) Capture()
    {
        var output = new ObservedStringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(TextWriter.Synchronized(output)),
        });
        console.Profile.Width = 240; // one line per transcript entry
        return (console, output);
    }

    private readonly List<string> _scriptDirs = [];

    public void Dispose()
    {
        foreach (var dir in _scriptDirs) Directory.Delete(dir, recursive: true);
    }

    private async Task<string> WriteScript(string json)
    {
        string dir = Directory.CreateTempSubdirectory("sandbox-script").FullName;
        _scriptDirs.Add(dir);
        string file = Path.Combine(dir, "script.json");
        await File.WriteAllTextAsync(file, json);
        return file;
    }

    private const string ShortScript = """
        { "stories": [
          { "name": "greeting", "steps": [ { "user": "hello", "intent": "greet", "reply": "^Hi" } ] },
          { "name": "reminder", "steps": [
            { "user": "remind me in 10 minutes to call mom", "reply": "shall I go ahead" },
            { "user": "yes", "reply": "remind you .*call mom" } ] }
        ] }
        """;

    [Fact]
    public async Task Every_platform_gets_its_replies_once_and_the_run_passes()
    {
        string script = await WriteScript(ShortScript);
        var (console, output) = Capture();
        var report = await new SandboxSession(new SandboxOptions { Script = script, Users = 2, ReplyTimeoutSeconds = 120, HostArgs = HostArgs() }, console)
            .RunAsync(CancellationToken.None);

        Assert.True(report.Passed, output.ToString());
        Assert.Equal(Platforms, report.Platforms.Select(p => p.Platform));
        foreach (var p in report.Platforms)
        {
            // 2 users × (1 + 2 steps) per platform, each answered exactly once
            Assert.Equal(6, p.Sent);
            Assert.Equal(6, p.Answered);
            Assert.Equal(0, p.Lost);
            Assert.Equal(0, p.Duplicated);
            Assert.Equal(0, p.FailedExpectations);
            Assert.Equal(6, p.LatenciesMs.Count);
            Assert.NotNull(p.P50Ms);
        }
        Assert.Equal(0, report.ExitCode);
        string transcript = output.ToString();
        Assert.Contains("PASSED: 36 of 36 message(s) answered once", transcript);
        // the transcript shows each platform's conversations with the text in and the reply out
        foreach (var platform in Platforms) Assert.Matches(new Regex($@"{platform}\s+\S+ hello → Hi"), transcript);
    }

    [Fact]
    public async Task Back_pressure_slows_the_users_down_and_loses_nothing()
    {
        // One shard with a queue of one message and an inbound queue of one (a message that finds the inbound queue
        // empty goes straight to its shard, so both must be small to fill): webhooks get 503 + Retry-After (the
        // simulated platform retries like the real one), the web chat gets queue_full (resent with the same id),
        // socket/polling adapters wait.
        string script = await WriteScript("""{ "stories": [ { "name": "greeting", "steps": [ { "user": "hello", "reply": "^Hi" } ] } ] }""");
        double busyBefore = Busy();
        var (console, output) = Capture();
        var report = await new SandboxSession(new SandboxOptions
        {
            Script = script, Users = 4, ReplyTimeoutSeconds = 120, HostArgs = [.. HostArgs(), "--Pipeline:InboundCapacity", "1", "--Pipeline:ShardCount", "1", "--Pipeline:ShardCapacity", "1"],
        }, console).RunAsync(CancellationToken.None);

        Assert.True(report.Passed, output.ToString());
        Assert.All(report.Platforms, p => Assert.Equal((4, 4, 0, 0), (p.Sent, p.Answered, p.Lost, p.Duplicated)));
        // Metrics are process-wide: other tests may add to them too, but without 503s this run adds nothing.
        Assert.True(Busy() > busyBefore, "no webhook was ever answered 503: the test did not exercise back-pressure");
    }

    private static double Busy() =>
        MoltBot.Channels.Common.ChannelMetrics.Inbound.WithLabels("whatsapp", "busy").Value
        + MoltBot.Channels.Common.ChannelMetrics.Inbound.WithLabels("imessage", "busy").Value;

    [Fact]
    public async Task A_failing_expectation_exits_with_code_1_and_names_the_step()
    {
        string script = await WriteScript("""
            { "stories": [ { "name": "wrong on purpose", "steps": [ { "user": "hello", "reply": "^Goodbye forever$" } ] } ] }
            """);
        await using var p = MoltBotProcess.Start(["sandbox", "--script", script, "--reply-timeout", "120"]);
        Assert.Equal(1, await p.WaitForExitAsync(TimeSpan.FromSeconds(240)));
        foreach (var platform in Platforms)
        {
            Assert.Matches(new Regex($@"FAIL {platform}\s.*story ""wrong on purpose"" step 1 \(""hello""\): reply does not match /\^Goodbye forever\$/"), p.Stdout);
        }
        // the replies came (nothing lost or duplicated): only the expectation failed
        Assert.Contains("FAILED: 0 lost, 0 duplicated, 6 failed expectation(s)", p.Stdout);
    }

    [Fact]
    public async Task Bad_options_are_refused_with_exit_code_2()
    {
        Assert.Equal(2, await CliApp.Create().Parse(["sandbox", "--users", "0"]).InvokeAsync());
        Assert.Equal(2, await CliApp.Create().Parse(["sandbox", "--script", "/nonexistent/sandbox-script.json"]).InvokeAsync());
    }

    [Fact]
    public async Task Keep_running_serves_the_web_chat_until_cancelled()
    {
        string script = await WriteScript("""{ "stories": [ { "name": "greeting", "steps": [ { "user": "hello", "reply": "^Hi" } ] } ] }""");
        var (console, output) = Capture();
        using var stop = new CancellationTokenSource();
        var session = new SandboxSession(new SandboxOptions { Script = script, KeepRunning = true, ReplyTimeoutSeconds = 120, HostArgs = HostArgs() }, console);
        var running = session.RunAsync(stop.Token);

        // "Press Ctrl+C to stop." is written after the URL lines, so all of them are in the output once it is.
        bool printed = await output.WaitForAsync(text => text.Contains("Press Ctrl+C to stop."), TimeSpan.FromSeconds(180), stopWhenCompleted: running);
        Assert.False(running.IsCompleted && !printed, "the sandbox ended before printing its URLs: " + output);
        Assert.True(printed, "no 'keep running' line: " + output);
        var url = new Uri(KeepRunningLine().Match(output.ToString()).Groups[1].Value);
        string text = output.ToString();
        Assert.Contains("PASSED", text);
        foreach (var platform in Platforms.Where(p => p != "web")) Assert.Matches(new Regex($@"  {platform}: http://127\.0\.0\.1:\d+"), text);

        // A developer's own web chat client (what the page does): token, /ws, auth, send → reply.final.
        using var http = new HttpClient { BaseAddress = url };
        using var token = JsonDocument.Parse(await http.GetStringAsync("/webchat/token"));
        using var ws = new ClientWebSocket();
        await ws.ConnectAsync(new Uri($"ws://{url.Authority}/ws"), CancellationToken.None);
        await SendAsync(ws, new { type = "auth", token = token.RootElement.GetProperty("token").GetString(), user = "developer" });
        await SendAsync(ws, new { type = "send", id = "d1", text = "hello" });
        string? final = null;
        while (final is null)
        {
            using var frame = await ReceiveAsync(ws);
            if (frame.RootElement.GetProperty("type").GetString() == "reply.final") final = frame.RootElement.GetProperty("text").GetString();
        }
        Assert.StartsWith("Hi", final);
        await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);

        await stop.CancelAsync();
        var report = await running.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(report.Passed);
        Assert.Contains("stopping", output.ToString());
        // the host is gone: its port no longer answers
        await Assert.ThrowsAsync<HttpRequestException>(() => http.GetStringAsync("/healthz"));
    }

    [Fact]
    public async Task Stopping_during_the_script_ends_cleanly_and_does_not_pass()
    {
        var (console, output) = Capture();
        using var stop = new CancellationTokenSource();
        // 100 users × the bundled stories × 6 platforms: far from done when the stop comes.
        var running = new SandboxSession(new SandboxOptions { Users = 100, ReplyTimeoutSeconds = 600, HostArgs = HostArgs() }, console).RunAsync(stop.Token);
        bool started = await output.WaitForAsync(text => text.Contains("script: "), TimeSpan.FromSeconds(180), stopWhenCompleted: running);
        Assert.False(running.IsCompleted && !started, output.ToString());
        Assert.True(started, "the script never started: " + output);
        await stop.CancelAsync();
        var report = await running.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.False(report.Passed);
        Assert.Equal(1, report.ExitCode);
        Assert.Contains("interrupted before the script finished", output.ToString());
    }

    [Fact]
    public async Task Keep_running_process_shuts_down_gracefully_on_SIGTERM()
    {
        string script = await WriteScript("""{ "stories": [ { "name": "greeting", "steps": [ { "user": "hello", "reply": "^Hi" } ] } ] }""");
        await using var p = MoltBotProcess.Start(["sandbox", "--script", script, "--keep-running", "--reply-timeout", "120"]);
        Assert.True(await p.WaitForStdoutAsync("Press Ctrl+C to stop.", TimeSpan.FromSeconds(180)), "never reached keep-running: " + p.Stdout + p.Stderr);
        Assert.Matches(KeepRunningLine(), p.Stdout);
        p.Terminate();
        Assert.Equal(0, await p.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("stopping", p.Stdout);
    }

    private static Task SendAsync(ClientWebSocket ws, object frame) =>
        ws.SendAsync(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(frame)), WebSocketMessageType.Text, true, CancellationToken.None);

    private static async Task<JsonDocument> ReceiveAsync(ClientWebSocket ws)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var r = await ws.ReceiveAsync(buffer, timeout.Token);
            Assert.NotEqual(WebSocketMessageType.Close, r.MessageType);
            message.Write(buffer, 0, r.Count);
            if (r.EndOfMessage) return JsonDocument.Parse(message.ToArray());
        }
    }

    [GeneratedRegex(@"keep running: web chat (http://127\.0\.0\.1:\d+/?)")]
    private static partial Regex KeepRunningLine();
}
