using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MoltBot.Channels.Common;
using MoltBot.Contracts.Configuration;
using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;

namespace MoltBot.Channels.WhatsApp;

/// <summary>
/// WhatsApp Business Cloud API: a webhook (GET verification handshake, X-Hub-Signature-256 on every POST) for
/// inbound, POST /{phone-number-id}/messages for replies, inside the 24-hour customer-service window.
/// </summary>
public sealed class WhatsAppAdapter : ChannelAdapterBase
{
    /// <summary>Free-form replies are allowed only this long after the user's last message.</summary>
    public static readonly TimeSpan CustomerServiceWindow = TimeSpan.FromHours(24);

    private readonly WhatsAppOptions _o;
    private readonly HttpClient _http = JsonHttp.CreateClient();
    private LastInboundStore? _window;

    public WhatsAppAdapter(IOptions<WhatsAppOptions> options, IInboundQueue inbound, MoltBotPaths paths, TimeProvider clock, ILogger<WhatsAppAdapter> logger)
        : base(Platforms.WhatsApp, options.Value, inbound, paths, clock, logger)
    {
        _o = options.Value;
    }

    protected override int MessageLimit => 4096;

    private AuthenticationHeaderValue Auth => new("Bearer", _o.AccessToken);

    protected override Task OnStartingAsync(CancellationToken cancellationToken)
    {
        _window ??= new LastInboundStore(DataPath("last-inbound.tsv"));
        return Task.CompletedTask;
    }

    protected override Task RunConnectionAsync(CancellationToken cancellationToken) =>
        PingLoopAsync(async ct =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, JsonHttp.Combine(_o.BaseUrl, _o.PhoneNumberId + "?fields=id"));
            request.Headers.Authorization = Auth;
            await JsonHttp.SendAsync(_http, request, Platform, ct).ConfigureAwait(false);
        }, cancellationToken);

    /// <summary>GET handshake: echo hub.challenge when hub.mode is "subscribe" and hub.verify_token matches.</summary>
    public IResult Verify(HttpContext context)
    {
        if (!Enabled) return Results.NotFound();
        var q = context.Request.Query;
        if (q["hub.mode"] == "subscribe" && WebhookResults.FixedTimeEquals(q["hub.verify_token"], _o.VerifyToken))
        {
            return Results.Text(q["hub.challenge"].ToString(), "text/plain");
        }
        Logger.LogWarning("WhatsApp webhook verification refused (mode {Mode}, token mismatch)", q["hub.mode"].ToString());
        return Results.StatusCode(StatusCodes.Status403Forbidden);
    }

    /// <summary>POST: verify the signature over the raw body before anything else, then normalize and enqueue.</summary>
    public async Task<IResult> ReceiveAsync(HttpContext context)
    {
        if (!Enabled) return Results.NotFound();
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted).ConfigureAwait(false);
        byte[] body = buffer.ToArray();
        if (!SignatureValid(body, context.Request.Headers["X-Hub-Signature-256"]))
        {
            ChannelMetrics.Inbound.WithLabels(Platform, "rejected").Inc();
            Logger.LogWarning("WhatsApp webhook POST with a missing or wrong X-Hub-Signature-256 rejected");
            return Results.Unauthorized();
        }
        IReadOnlyList<Envelope> messages;
        IReadOnlyList<WhatsAppStatus> statuses;
        try
        {
            using var doc = JsonDocument.Parse(body);
            (messages, statuses) = WhatsAppNormalizer.Normalize(doc.RootElement);
        }
        catch (Exception ex) when (ex is JsonException or FormatException or KeyNotFoundException or InvalidOperationException)
        {
            ChannelMetrics.Inbound.WithLabels(Platform, "rejected").Inc();
            Logger.LogWarning("WhatsApp webhook body is malformed: {Error}", ex.Message);
            return Results.BadRequest(new { error = "malformed webhook body: " + ex.Message });
        }
        foreach (var s in statuses) OnStatus(s);
        var worst = EnqueueResult.Accepted;
        foreach (var envelope in messages)
        {
            _window!.Record(envelope.UserId, envelope.TimestampMs > 0 ? envelope.TimestampMs : NowMs);
            worst = WebhookResults.Worst(worst, TryPublish(envelope));
        }
        return WebhookResults.From(worst, context);
    }

    internal bool SignatureValid(byte[] body, string? header)
    {
        const string prefix = "sha256=";
        if (header is null || !header.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) return false;
        byte[] expected = HMACSHA256.HashData(System.Text.Encoding.UTF8.GetBytes(_o.AppSecret), body);
        byte[] given;
        try
        {
            given = Convert.FromHexString(header.AsSpan(prefix.Length));
        }
        catch (FormatException)
        {
            return false;
        }
        return CryptographicOperations.FixedTimeEquals(expected, given);
    }

    private void OnStatus(WhatsAppStatus s)
    {
        ChannelMetrics.Outbound.WithLabels(Platform, "status_" + s.Status).Inc();
        if (s.Status == "failed") Logger.LogWarning("WhatsApp reports message {MessageId} failed: {Error}", s.MessageId, s.Error);
        else Logger.LogDebug("WhatsApp message {MessageId} is {Status}", s.MessageId, s.Status);
    }

    protected override string Render(string text) => Markup.ToWhatsApp(text);

    protected override async Task DeliverPartAsync(OutboxEntry entry, string renderedPart, int part, CancellationToken cancellationToken)
    {
        var m = entry.Message;
        string url = JsonHttp.Combine(_o.BaseUrl, _o.PhoneNumberId + "/messages");
        object body;
        if (InsideWindow(m.UserId))
        {
            body = part == 0 && m.ReplyToPlatformMessageId is { } replyTo
                ? new { messaging_product = "whatsapp", recipient_type = "individual", to = m.ConversationId, type = "text", context = new { message_id = replyTo }, text = new { preview_url = false, body = renderedPart } }
                : new { messaging_product = "whatsapp", recipient_type = "individual", to = m.ConversationId, type = "text", text = new { preview_url = false, body = renderedPart } };
        }
        else if (_o.WindowTemplateName.Length > 0)
        {
            // Outside the window only approved templates may be sent; ours carries the reply as its one parameter.
            body = new
            {
                messaging_product = "whatsapp", to = m.ConversationId, type = "template",
                template = new
                {
                    name = _o.WindowTemplateName, language = new { code = _o.WindowTemplateLanguage },
                    components = new[] { new { type = "body", parameters = new[] { new { type = "text", text = renderedPart } } } },
                },
            };
        }
        else
        {
            throw new PermanentDeliveryException(
                $"user {m.UserId} last wrote more than 24 hours ago: WhatsApp allows only template messages outside the customer-service window (set {WhatsAppOptions.SectionName}:WindowTemplateName)");
        }
        await JsonHttp.SendAsync(_http, JsonHttp.Post(url, body, Auth), Platform, cancellationToken, GraphRateLimit).ConfigureAwait(false);
    }

    private bool InsideWindow(string user) =>
        _window?.Get(user) is { } last && Clock.GetUtcNow().ToUnixTimeMilliseconds() - last < (long)CustomerServiceWindow.TotalMilliseconds;

    /// <summary>Graph API throttling arrives as HTTP 429 or as error codes 4/80007/130429/131056 on a 400.</summary>
    private static TimeSpan? GraphRateLimit(HttpResponseMessage response, string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.TryGetProperty("error", out var e) && e.TryGetProperty("code", out var c) && c.TryGetInt32(out int code)
                && code is 4 or 80007 or 130429 or 131056)
            {
                throw new RateLimitedException(Platforms.WhatsApp, HttpFailures.RetryAfterHeader(response) ?? TimeSpan.FromSeconds(2));
            }
        }
        catch (JsonException)
        {
        }
        return null;
    }

    protected override async Task SendTypingAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        // The Cloud API shows "typing…" while marking the user's message as read.
        if (message.ReplyToPlatformMessageId is not { } id || !InsideWindow(message.UserId)) return;
        var body = new { messaging_product = "whatsapp", status = "read", message_id = id, typing_indicator = new { type = "text" } };
        await JsonHttp.SendAsync(_http, JsonHttp.Post(JsonHttp.Combine(_o.BaseUrl, _o.PhoneNumberId + "/messages"), body, Auth), Platform, cancellationToken).ConfigureAwait(false);
    }

    public override async ValueTask DisposeAsync()
    {
        if (!BeginDispose()) return;
        await base.DisposeAsync().ConfigureAwait(false);
        _window?.Dispose();
        _http.Dispose();
    }
}
