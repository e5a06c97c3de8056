using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MoltBot.Channels.Common;
using MoltBot.Contracts.Configuration;
using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;

namespace MoltBot.Channels.Slack;

/// <summary>
/// Slack Socket Mode: apps.connections.open gives a WebSocket URL; every envelope is acknowledged with its
/// envelope_id once its message is safely in the pipeline (unacknowledged envelopes are redelivered by Slack);
/// a "disconnect" (refresh) opens the next connection before the old one is closed. Replies via chat.postMessage.
/// </summary>
public sealed class SlackAdapter : ChannelAdapterBase
{
    private readonly SlackOptions _o;
    private readonly HttpClient _http = JsonHttp.CreateClient();

    public SlackAdapter(IOptions<SlackOptions> options, IInboundQueue inbound, MoltBotPaths paths, TimeProvider clock, ILogger<SlackAdapter> logger)
        : base(Platforms.Slack, options.Value, inbound, paths, clock, logger)
    {
        _o = options.Value;
    }

    /// <summary>chat.postMessage truncates beyond 40,000 characters; Slack advises 4,000 for readability.</summary>
    protected override int MessageLimit => 4000;

    /// <summary>Connections opened so far (tests watch refreshes).</summary>
    public int ConnectionsOpened { get; private set; }

    protected override async Task RunConnectionAsync(CancellationToken cancellationToken)
    {
        JsonWebSocket? socket = null;
        var draining = new List<Task>();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                socket ??= await ConnectAsync(cancellationToken).ConfigureAwait(false);
                var ended = await ReceiveUntilEndAsync(socket, cancellationToken).ConfigureAwait(false);
                if (ended == SocketEnd.RefreshRequested)
                {
                    // Seamless: the next connection is up before the old one goes away; the old one keeps
                    // delivering (and getting acks) until Slack closes it.
                    var old = socket;
                    socket = await ConnectAsync(cancellationToken).ConfigureAwait(false);
                    draining.RemoveAll(t => t.IsCompleted);
                    draining.Add(DrainAndCloseAsync(old, cancellationToken));
                }
                else
                {
                    Tracker.Set(ChannelState.Reconnecting);
                    Logger.LogWarning("Slack socket closed (status {Status}); reconnecting", socket.CloseStatus);
                    await socket.DisposeAsync().ConfigureAwait(false);
                    socket = null;
                }
            }
        }
        finally
        {
            if (socket is not null)
            {
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "shutting down").ConfigureAwait(false);
                await socket.DisposeAsync().ConfigureAwait(false);
            }
            await Task.WhenAll(draining).ConfigureAwait(false);
        }
    }

    private async Task DrainAndCloseAsync(JsonWebSocket old, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            await ReceiveUntilEndAsync(old, cts.Token, refreshing: true).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        await old.CloseAsync(WebSocketCloseStatus.NormalClosure, "refreshed").ConfigureAwait(false);
        await old.DisposeAsync().ConfigureAwait(false);
    }

    private async Task<JsonWebSocket> ConnectAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                return await Resilience.ExecuteAsync(async ct =>
                {
                    var request = new HttpRequestMessage(HttpMethod.Post, JsonHttp.Combine(_o.BaseUrl, "apps.connections.open"));
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _o.AppToken);
                    request.Content = new FormUrlEncodedContent([]);
                    string body = await JsonHttp.SendAsync(_http, request, Platform, ct).ConfigureAwait(false);
                    string url = WebApiResult(body).GetProperty("url").GetString()!;
                    var socket = await JsonWebSocket.ConnectAsync(new Uri(url), TimeSpan.FromSeconds(Options.PingIntervalSeconds), ct).ConfigureAwait(false);
                    ConnectionsOpened++;
                    return socket;
                }, cancellationToken).ConfigureAwait(false);
            }
            catch (PermanentDeliveryException ex)
            {
                // e.g. invalid_auth: retrying fast cannot help, but an operator may fix the token; keep trying slowly.
                Logger.LogError("Slack refused apps.connections.open: {Error}", ex.Message);
                Tracker.Set(ChannelState.Reconnecting);
                await Task.Delay(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                Logger.LogWarning("Slack connection attempt failed ({Error}); trying again", ex.Message);
                Tracker.Set(ChannelState.Reconnecting);
                await Task.Delay(TimeSpan.FromMilliseconds(Options.RetryBaseDelayMilliseconds), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private enum SocketEnd { Closed, RefreshRequested }

    private async Task<SocketEnd> ReceiveUntilEndAsync(JsonWebSocket socket, CancellationToken cancellationToken, bool refreshing = false)
    {
        while (true)
        {
            string? text;
            try
            {
                text = await socket.ReceiveAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is WebSocketException or InvalidDataException or IOException)
            {
                Logger.LogWarning("Slack socket failed: {Error}", ex.Message);
                return SocketEnd.Closed;
            }
            if (text is null) return SocketEnd.Closed;
            JsonDocument doc;
            try
            {
                doc = JsonDocument.Parse(text);
            }
            catch (JsonException ex)
            {
                Logger.LogWarning("Slack sent a frame that is not JSON ({Error}); ignored", ex.Message);
                continue;
            }
            using (doc)
            {
                var root = doc.RootElement;
                string type = root.TryGetProperty("type", out var t) ? t.GetString() ?? "" : "";
                switch (type)
                {
                    case "hello":
                        Tracker.Set(ChannelState.Connected);
                        Logger.LogInformation("Slack Socket Mode connected");
                        break;
                    case "disconnect":
                        string reason = root.TryGetProperty("reason", out var r) ? r.GetString() ?? "" : "";
                        Logger.LogInformation("Slack asked to disconnect ({Reason}); opening the next connection", reason);
                        if (!refreshing) return SocketEnd.RefreshRequested;
                        break;
                    default:
                        if (root.TryGetProperty("envelope_id", out var idProp) && idProp.GetString() is { } envelopeId)
                        {
                            await HandleEnvelopeAsync(socket, root, type, envelopeId, cancellationToken).ConfigureAwait(false);
                        }
                        break;
                }
            }
        }
    }

    private async Task HandleEnvelopeAsync(JsonWebSocket socket, JsonElement root, string type, string envelopeId, CancellationToken cancellationToken)
    {
        Envelope? envelope = null;
        try
        {
            var payload = root.GetProperty("payload");
            envelope = type switch
            {
                "events_api" => SlackNormalizer.FromEventsApi(payload),
                "slash_commands" => SlackNormalizer.FromSlashCommand(payload, envelopeId),
                _ => null,
            };
        }
        catch (Exception ex) when (ex is KeyNotFoundException or FormatException or InvalidOperationException)
        {
            // Redelivery would bring the same broken payload: log it and acknowledge.
            ChannelMetrics.Inbound.WithLabels(Platform, "rejected").Inc();
            Logger.LogWarning("Slack {Type} envelope {EnvelopeId} is malformed ({Error}); acknowledged and skipped", type, envelopeId, ex.Message);
        }
        if (envelope is not null)
        {
            if (envelope.TimestampMs == 0) envelope = envelope with { TimestampMs = NowMs };
            try
            {
                // In the pipeline (or known) before the ack: a connection lost in between means Slack redelivers.
                await PublishAsync(envelope, cancellationToken).ConfigureAwait(false);
            }
            catch (PipelineClosedException)
            {
                // Shutting down: no ack, so Slack delivers it again to the next run.
                Logger.LogInformation("Slack envelope {EnvelopeId} not acknowledged: MoltBot is shutting down", envelopeId);
                return;
            }
        }
        try
        {
            await socket.SendAsync(JsonSerializer.Serialize(new { envelope_id = envelopeId }), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException)
        {
            Logger.LogDebug("Slack ack for {EnvelopeId} not sent ({Error}); the redelivery will be recognised as a duplicate", envelopeId, ex.Message);
        }
    }

    protected override string Render(string text) => Markup.ToSlackMrkdwn(text);

    protected override async Task DeliverPartAsync(OutboxEntry entry, string renderedPart, int part, CancellationToken cancellationToken)
    {
        var m = entry.Message;
        var body = new Dictionary<string, object> { ["channel"] = m.ConversationId, ["text"] = renderedPart };
        if (_o.ReplyInThread && m.ReplyToPlatformMessageId is { } ts && !ts.Contains(':')) body["thread_ts"] = ts;
        var request = JsonHttp.Post(JsonHttp.Combine(_o.BaseUrl, "chat.postMessage"), body, new AuthenticationHeaderValue("Bearer", _o.BotToken));
        string response = await JsonHttp.SendAsync(_http, request, Platform, cancellationToken).ConfigureAwait(false);
        WebApiResult(response);
    }

    /// <summary>The Web API answers HTTP 200 with {"ok":false,"error":…} for most failures; map them like HTTP errors.</summary>
    private static JsonElement WebApiResult(string body)
    {
        using var doc = JsonDocument.Parse(body);
        var root = doc.RootElement.Clone();
        if (root.TryGetProperty("ok", out var ok) && ok.ValueKind == JsonValueKind.True) return root;
        string error = root.TryGetProperty("error", out var e) ? e.GetString() ?? "unknown" : "unknown";
        throw error switch
        {
            "ratelimited" => new RateLimitedException(Platforms.Slack, TimeSpan.FromSeconds(1)),
            "internal_error" or "fatal_error" or "service_unavailable" or "request_timeout" => new TransientChannelException("Slack: " + error),
            _ => new PermanentDeliveryException("Slack: " + error),
        };
    }

    public override async ValueTask DisposeAsync()
    {
        if (!BeginDispose()) return;
        await base.DisposeAsync().ConfigureAwait(false);
        _http.Dispose();
    }
}
