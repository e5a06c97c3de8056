using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MoltBot.Channels.Common;
using MoltBot.Contracts.Configuration;
using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;

namespace MoltBot.Channels.Discord;

/// <summary>
/// Discord Gateway v10: HELLO → IDENTIFY (or RESUME of the previous session) → heartbeats at the announced interval,
/// the first one after a random fraction of it (jitter). A heartbeat whose ACK has not arrived by the next one marks
/// the connection a zombie: it is closed with a non-1000 code and the session resumed. RECONNECT (op 7) and
/// INVALID_SESSION (op 9) are honoured. Replies go through REST POST /channels/{id}/messages with bucket rate limits.
/// </summary>
public sealed class DiscordAdapter : ChannelAdapterBase
{
    /// <summary>Close codes after which Discord refuses to resume or identify with these settings.</summary>
    private static readonly int[] FatalCloseCodes = [4004, 4010, 4011, 4012, 4013, 4014];

    private readonly DiscordOptions _o;
    private readonly HttpClient _http = JsonHttp.CreateClient();
    private readonly DiscordRateLimiter _limits;
    private string? _sessionId;
    private string? _resumeUrl;
    private long _seq = -1;
    private string? _selfId;

    public DiscordAdapter(IOptions<DiscordOptions> options, IInboundQueue inbound, MoltBotPaths paths, TimeProvider clock, ILogger<DiscordAdapter> logger)
        : base(Platforms.Discord, options.Value, inbound, paths, clock, logger)
    {
        _o = options.Value;
        _limits = new DiscordRateLimiter(clock);
    }

    protected override int MessageLimit => 2000;

    /// <summary>Counters the tests read: sessions identified, resumed, and zombie connections detected.</summary>
    public int Identifies { get; private set; }
    public int Resumes { get; private set; }
    public int ZombiesDetected { get; private set; }

    private AuthenticationHeaderValue Auth => new("Bot", _o.Token);

    protected override async Task RunConnectionAsync(CancellationToken cancellationToken)
    {
        int failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var outcome = SessionOutcome.Resume;
            try
            {
                string url = _sessionId is not null && _resumeUrl is not null ? _resumeUrl : await GatewayUrlAsync(cancellationToken).ConfigureAwait(false);
                await using var socket = await JsonWebSocket.ConnectAsync(new Uri(WithQuery(url)), Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
                outcome = await RunSessionAsync(socket, cancellationToken).ConfigureAwait(false);
                failures = 0;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is WebSocketException or HttpRequestException or IOException or InvalidDataException or JsonException or TransientChannelException or RateLimitedException or Polly.Timeout.TimeoutRejectedException or Polly.CircuitBreaker.BrokenCircuitException)
            {
                failures++;
                Logger.LogWarning("Discord gateway connection failed ({Error}); reconnecting", ex.Message);
            }
            if (outcome == SessionOutcome.Fatal)
            {
                Tracker.Set(ChannelState.Reconnecting);
                await Task.Delay(TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
                continue;
            }
            Tracker.Set(ChannelState.Reconnecting);
            if (outcome == SessionOutcome.Identify) ResetSession();
            // Back off on repeated failures; reconnect at once after an ordinary drop.
            if (failures > 0)
            {
                var delay = TimeSpan.FromMilliseconds(Math.Min(30_000, Options.RetryBaseDelayMilliseconds * Math.Pow(2, Math.Min(failures, 10)) * (0.5 + Random.Shared.NextDouble())));
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private void ResetSession()
    {
        _sessionId = null;
        _resumeUrl = null;
        Interlocked.Exchange(ref _seq, -1);
    }

    private enum SessionOutcome { Resume, Identify, Fatal }

    private static string WithQuery(string url) => url.TrimEnd('/') + "/?v=10&encoding=json";

    private async Task<string> GatewayUrlAsync(CancellationToken cancellationToken) =>
        await Resilience.ExecuteAsync(async ct =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, JsonHttp.Combine(_o.BaseUrl, "gateway/bot"));
            request.Headers.Authorization = Auth;
            string body = await JsonHttp.SendAsync(_http, request, Platform, ct).ConfigureAwait(false);
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.GetProperty("url").GetString()!;
        }, cancellationToken).ConfigureAwait(false);

    private async Task<SessionOutcome> RunSessionAsync(JsonWebSocket socket, CancellationToken cancellationToken)
    {
        using var session = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var heartbeat = Task.CompletedTask;
        var acked = new StrongBox(true);
        bool zombie = false;
        try
        {
            while (true)
            {
                string? text = await socket.ReceiveAsync(session.Token).ConfigureAwait(false);
                if (text is null)
                {
                    int? code = socket.CloseStatus;
                    Logger.LogWarning("Discord gateway closed the connection (code {Code})", code);
                    if (code is { } c && FatalCloseCodes.Contains(c))
                    {
                        Logger.LogCritical("Discord refused the session with close code {Code}: check {Section}:Token and :Intents", c, DiscordOptions.SectionName);
                        return SessionOutcome.Fatal;
                    }
                    return code is 4007 or 4009 ? SessionOutcome.Identify : SessionOutcome.Resume;
                }
                using var doc = JsonDocument.Parse(text);
                var root = doc.RootElement;
                int op = root.GetProperty("op").GetInt32();
                switch (op)
                {
                    case 10: // HELLO
                        int interval = root.GetProperty("d").GetProperty("heartbeat_interval").GetInt32();
                        heartbeat = HeartbeatAsync(socket, TimeSpan.FromMilliseconds(interval), acked, () => zombie = true, session.Token);
                        await (_sessionId is not null ? ResumeAsync(socket, session.Token) : IdentifyAsync(socket, session.Token)).ConfigureAwait(false);
                        break;
                    case 11: // HEARTBEAT_ACK
                        acked.Value = true;
                        break;
                    case 1: // the gateway asks for a heartbeat now
                        await SendHeartbeatAsync(socket, session.Token).ConfigureAwait(false);
                        break;
                    case 7: // RECONNECT
                        Logger.LogInformation("Discord asked to reconnect; resuming");
                        await socket.CloseAsync((WebSocketCloseStatus)4000, "reconnect").ConfigureAwait(false);
                        return SessionOutcome.Resume;
                    case 9: // INVALID_SESSION, d = resumable
                        bool resumable = root.TryGetProperty("d", out var d9) && d9.ValueKind == JsonValueKind.True;
                        Logger.LogWarning("Discord invalidated the session (resumable: {Resumable})", resumable);
                        await socket.CloseAsync((WebSocketCloseStatus)4000, "invalid session").ConfigureAwait(false);
                        // Discord asks for a 1–5 s pause before identifying again.
                        await Task.Delay(TimeSpan.FromMilliseconds(1000 + Random.Shared.Next(4000)), cancellationToken).ConfigureAwait(false);
                        return resumable ? SessionOutcome.Resume : SessionOutcome.Identify;
                    case 0:
                        if (root.TryGetProperty("s", out var s) && s.ValueKind == JsonValueKind.Number) Interlocked.Exchange(ref _seq, s.GetInt64());
                        await DispatchAsync(root.GetProperty("t").GetString() ?? "", root.GetProperty("d"), session.Token).ConfigureAwait(false);
                        break;
                }
            }
        }
        catch (Exception ex) when (zombie && ex is WebSocketException or OperationCanceledException or IOException)
        {
            return SessionOutcome.Resume;
        }
        catch (PipelineClosedException)
        {
            // Shutting down: stop reading; events not yet enqueued are not acknowledged to anyone and nothing was answered.
            return SessionOutcome.Resume;
        }
        finally
        {
            await session.CancelAsync().ConfigureAwait(false);
            try
            {
                await heartbeat.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private async Task HeartbeatAsync(JsonWebSocket socket, TimeSpan interval, StrongBox acked, Action markZombie, CancellationToken cancellationToken)
    {
        // Jitter: the first beat after interval * random(0..1), so many clients do not beat in step.
        await Task.Delay(interval * Random.Shared.NextDouble(), cancellationToken).ConfigureAwait(false);
        while (!cancellationToken.IsCancellationRequested)
        {
            if (!acked.Value)
            {
                ZombiesDetected++;
                Logger.LogWarning("Discord heartbeat not acknowledged within {Interval} ms: zombie connection, resuming", (int)interval.TotalMilliseconds);
                markZombie();
                // Any close code but 1000/1001 keeps the session resumable.
                await socket.CloseAsync((WebSocketCloseStatus)4000, "zombie").ConfigureAwait(false);
                return;
            }
            acked.Value = false;
            try
            {
                await SendHeartbeatAsync(socket, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException)
            {
                return; // the receive loop sees the dead socket
            }
            await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
        }
    }

    private Task SendHeartbeatAsync(JsonWebSocket socket, CancellationToken cancellationToken)
    {
        long seq = Interlocked.Read(ref _seq);
        return socket.SendAsync(seq < 0 ? "{\"op\":1,\"d\":null}" : "{\"op\":1,\"d\":" + seq + "}", cancellationToken);
    }

    private Task IdentifyAsync(JsonWebSocket socket, CancellationToken cancellationToken)
    {
        Identifies++;
        var identify = new JsonObject
        {
            ["op"] = 2,
            ["d"] = new JsonObject
            {
                ["token"] = _o.Token,
                ["intents"] = _o.Intents,
                ["properties"] = new JsonObject { ["os"] = "linux", ["browser"] = "moltbot", ["device"] = "moltbot" },
            },
        };
        return socket.SendAsync(identify.ToJsonString(), cancellationToken);
    }

    private Task ResumeAsync(JsonWebSocket socket, CancellationToken cancellationToken)
    {
        Resumes++;
        long seq = Interlocked.Read(ref _seq);
        var resume = new JsonObject
        {
            ["op"] = 6,
            ["d"] = new JsonObject { ["token"] = _o.Token, ["session_id"] = _sessionId, ["seq"] = seq < 0 ? null : seq },
        };
        return socket.SendAsync(resume.ToJsonString(), cancellationToken);
    }

    private async Task DispatchAsync(string eventName, JsonElement d, CancellationToken cancellationToken)
    {
        switch (eventName)
        {
            case "READY":
                _sessionId = d.GetProperty("session_id").GetString();
                _resumeUrl = d.TryGetProperty("resume_gateway_url", out var ru) ? ru.GetString() : null;
                _selfId = d.TryGetProperty("user", out var user) && user.TryGetProperty("id", out var uid) ? uid.GetString() : null;
                Tracker.Set(ChannelState.Connected);
                Logger.LogInformation("Discord gateway ready (session established)");
                return;
            case "RESUMED":
                Tracker.Set(ChannelState.Connected);
                Logger.LogInformation("Discord session resumed");
                return;
        }
        Envelope? envelope;
        try
        {
            envelope = DiscordNormalizer.Normalize(eventName, d, _selfId);
        }
        catch (Exception ex) when (ex is FormatException or KeyNotFoundException or InvalidOperationException)
        {
            ChannelMetrics.Inbound.WithLabels(Platform, "rejected").Inc();
            Logger.LogWarning("Discord {Event} dispatch is malformed ({Error}); skipped", eventName, ex.Message);
            return;
        }
        if (envelope is null) return;
        if (envelope.TimestampMs == 0) envelope = envelope with { TimestampMs = NowMs }; // reactions carry no time
        await PublishAsync(envelope, cancellationToken).ConfigureAwait(false);
    }

    protected override string Render(string text) => Markup.ToDiscordMarkdown(text);

    protected override async Task DeliverPartAsync(OutboxEntry entry, string renderedPart, int part, CancellationToken cancellationToken)
    {
        var m = entry.Message;
        var body = new JsonObject
        {
            ["content"] = renderedPart,
            // Mentions in the reply ping users, never @everyone or roles the model happened to write.
            ["allowed_mentions"] = new JsonObject { ["parse"] = new JsonArray("users"), ["replied_user"] = false },
        };
        if (part == 0 && m.ReplyToPlatformMessageId is { } replyTo && !replyTo.Contains(':'))
        {
            body["message_reference"] = new JsonObject { ["message_id"] = replyTo, ["fail_if_not_exists"] = false };
        }
        await RestAsync("POST /channels/{channel.id}/messages", m.ConversationId, $"channels/{m.ConversationId}/messages", body, cancellationToken).ConfigureAwait(false);
    }

    protected override Task SendTypingAsync(OutboundMessage message, CancellationToken cancellationToken) =>
        RestAsync("POST /channels/{channel.id}/typing", message.ConversationId, $"channels/{message.ConversationId}/typing", null, cancellationToken);

    private async Task RestAsync(string route, string major, string path, JsonObject? body, CancellationToken cancellationToken)
    {
        await _limits.WaitAsync(route, major, cancellationToken).ConfigureAwait(false);
        using var request = new HttpRequestMessage(HttpMethod.Post, JsonHttp.Combine(_o.BaseUrl, path));
        request.Headers.Authorization = Auth;
        request.Content = new StringContent(body?.ToJsonString() ?? "", System.Text.Encoding.UTF8, "application/json");
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        _limits.Observe(route, major, response, text);
        if (!response.IsSuccessStatusCode) throw HttpFailures.From(Platform, response, text);
    }

    public override async ValueTask DisposeAsync()
    {
        if (!BeginDispose()) return;
        await base.DisposeAsync().ConfigureAwait(false);
        _http.Dispose();
    }

    /// <summary>A flag shared between the receive loop and the heartbeat task.</summary>
    private sealed class StrongBox(bool value)
    {
        private volatile bool _value = value;
        public bool Value { get => _value; set => _value = value; }
    }
}
