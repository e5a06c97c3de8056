using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MoltBot.Channels.Common;
using MoltBot.Contracts.Configuration;
using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;

namespace MoltBot.Channels.IMessage;

/// <summary>
/// iMessage through BlueBubbles: its webhook (new-message, updated-message) for inbound, its REST API
/// (POST /api/v1/message/text?password=…) for replies, GET /api/v1/ping as the health check.
/// </summary>
public sealed class IMessageAdapter : ChannelAdapterBase
{
    private readonly IMessageOptions _o;
    private readonly HttpClient _http = JsonHttp.CreateClient();

    public IMessageAdapter(IOptions<IMessageOptions> options, IInboundQueue inbound, MoltBotPaths paths, TimeProvider clock, ILogger<IMessageAdapter> logger)
        : base(Platforms.IMessage, options.Value, inbound, paths, clock, logger)
    {
        _o = options.Value;
    }

    // iMessage has no hard limit; very long bubbles are unreadable, so split like the other platforms.
    protected override int MessageLimit => 4000;

    private string Api(string path) => JsonHttp.Combine(_o.BaseUrl, path) + "?password=" + Uri.EscapeDataString(_o.Password);

    protected override Task RunConnectionAsync(CancellationToken cancellationToken) =>
        PingLoopAsync(async ct =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, Api("api/v1/ping"));
            await JsonHttp.SendAsync(_http, request, Platform, ct).ConfigureAwait(false);
        }, cancellationToken);

    public async Task<IResult> ReceiveAsync(HttpContext context)
    {
        if (!Enabled) return Results.NotFound();
        if (!WebhookResults.FixedTimeEquals(context.Request.Query["secret"], _o.WebhookSecret))
        {
            ChannelMetrics.Inbound.WithLabels(Platform, "rejected").Inc();
            Logger.LogWarning("BlueBubbles webhook call without the right secret rejected");
            return Results.Unauthorized();
        }
        Envelope? envelope;
        try
        {
            using var doc = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted).ConfigureAwait(false);
            envelope = BlueBubblesNormalizer.Normalize(doc.RootElement);
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException)
        {
            ChannelMetrics.Inbound.WithLabels(Platform, "rejected").Inc();
            Logger.LogWarning("BlueBubbles webhook body is malformed: {Error}", ex.Message);
            return Results.BadRequest(new { error = "malformed webhook body: " + ex.Message });
        }
        if (envelope is null) return Results.Ok(); // other event types (typing, receipts, our own echoes)
        return WebhookResults.From(TryPublish(envelope), context);
    }

    protected override string Render(string text) => Markup.ToPlainText(text);

    protected override async Task DeliverPartAsync(OutboxEntry entry, string renderedPart, int part, CancellationToken cancellationToken)
    {
        var m = entry.Message;
        var body = new Dictionary<string, object>
        {
            ["chatGuid"] = m.ConversationId,
            // Stable per part, so BlueBubbles can match its echo of our send to this request.
            ["tempGuid"] = $"moltbot-{m.InReplyTo}-{entry.Seq}-{part}",
            ["message"] = renderedPart,
            ["method"] = _o.SendMethod,
        };
        if (part == 0 && _o.SendMethod == "private-api" && m.ReplyToPlatformMessageId is { } replyTo && !replyTo.Contains(":edit:"))
        {
            body["selectedMessageGuid"] = replyTo;
            body["partIndex"] = 0;
        }
        await JsonHttp.SendAsync(_http, JsonHttp.Post(Api("api/v1/message/text"), body), Platform, cancellationToken).ConfigureAwait(false);
    }

    protected override async Task SendTypingAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        // Typing indicators need the BlueBubbles Private API; with AppleScript sending there is none.
        if (_o.SendMethod != "private-api") return;
        using var request = new HttpRequestMessage(HttpMethod.Post, Api("api/v1/chat/" + Uri.EscapeDataString(message.ConversationId) + "/typing"));
        await JsonHttp.SendAsync(_http, request, Platform, cancellationToken).ConfigureAwait(false);
    }

    public override async ValueTask DisposeAsync()
    {
        if (!BeginDispose()) return;
        await base.DisposeAsync().ConfigureAwait(false);
        _http.Dispose();
    }
}
