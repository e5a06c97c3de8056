using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MoltBot.Channels.Common;
using MoltBot.Contracts.Configuration;
using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;
using Telegram.Bot;
using Telegram.Bot.Exceptions;
using Telegram.Bot.Types;
using Telegram.Bot.Types.Enums;

namespace MoltBot.Channels.Telegram;

/// <summary>
/// Telegram Bot API through the Telegram.Bot client (pointed at Channels:Telegram:BaseUrl). Long polling with a
/// persisted offset, or a webhook checked against X-Telegram-Bot-Api-Secret-Token. Replies with sendMessage
/// (HTML parse mode, reply_parameters); streamed deltas become one message edited as it grows (editMessageText).
/// </summary>
public sealed class TelegramAdapter : ChannelAdapterBase
{
    private static readonly TimeSpan DraftEditInterval = TimeSpan.FromSeconds(1);

    private readonly TelegramOptions _o;
    private readonly HttpClient _http = JsonHttp.CreateClient();
    private readonly TelegramBotClient _bot;
    private readonly string _botId;
    private readonly ConcurrentDictionary<string, Draft> _drafts = new();
    private TelegramOffsetStore? _offsets;
    private int? _offset;

    public TelegramAdapter(IOptions<TelegramOptions> options, IInboundQueue inbound, MoltBotPaths paths, TimeProvider clock, ILogger<TelegramAdapter> logger)
        : base(Platforms.Telegram, options.Value, inbound, paths, clock, logger)
    {
        _o = options.Value;
        _botId = _o.Token.Contains(':') ? _o.Token[.._o.Token.IndexOf(':')] : "default";
        // Retries belong to our Polly pipeline (which honours retry_after), not to the client.
        var clientOptions = new TelegramBotClientOptions(string.IsNullOrEmpty(_o.Token) ? "0:disabled" : _o.Token, _o.BaseUrl.TrimEnd('/'))
        {
            RetryCount = 0,
        };
        _bot = new TelegramBotClient(clientOptions, _http);
    }

    protected override int MessageLimit => 4096;

    /// <summary>The offset the next getUpdates sends (tests check persistence).</summary>
    public int? Offset => _offset;

    protected override Task OnStartingAsync(CancellationToken cancellationToken)
    {
        _offsets ??= new TelegramOffsetStore(DataPath("offset.txt"));
        _offset = _offsets.Load();
        return Task.CompletedTask;
    }

    protected override Task RunConnectionAsync(CancellationToken cancellationToken) =>
        _o.IsWebhook
            ? PingLoopAsync(ct => Call(c => _bot.GetMe(c), ct), cancellationToken)
            : PollAsync(cancellationToken);

    private async Task PollAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Update[] updates;
            try
            {
                updates = await Resilience.ExecuteAsync(
                    ct => new ValueTask<Update[]>(Call(c => _bot.GetUpdates(_offset, 100, _o.PollTimeoutSeconds, null, c), ct)),
                    cancellationToken).ConfigureAwait(false);
                Tracker.Set(ChannelState.Connected);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                Tracker.Set(ChannelState.Reconnecting);
                Logger.LogWarning("Telegram getUpdates failed after retries ({Error}); polling again shortly", ex.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(Options.RetryBaseDelayMilliseconds * 4), cancellationToken).ConfigureAwait(false);
                continue;
            }
            foreach (var update in updates.OrderBy(u => u.Id))
            {
                if (_offset is { } o && update.Id < o) continue; // an older update a misbehaving server sent again
                Envelope? envelope = null;
                try
                {
                    envelope = TelegramNormalizer.Normalize(update, _botId);
                }
                catch (Exception ex) when (ex is FormatException or InvalidOperationException or ArgumentException)
                {
                    ChannelMetrics.Inbound.WithLabels(Platform, "rejected").Inc();
                    Logger.LogWarning("Telegram update {UpdateId} could not be normalized ({Error}); skipped", update.Id, ex.Message);
                }
                if (envelope is not null)
                {
                    try
                    {
                        await PublishAsync(envelope, cancellationToken).ConfigureAwait(false);
                    }
                    catch (PipelineClosedException)
                    {
                        return; // the offset stays before this update: it is fetched again at the next start
                    }
                }
                _offset = update.Id + 1;
                _offsets!.Save(_offset.Value);
            }
        }
    }

    /// <summary>Webhook mode: Telegram POSTs one Update per call with our secret in the header.</summary>
    public async Task<IResult> ReceiveAsync(HttpContext context)
    {
        if (!Enabled || !_o.IsWebhook) return Results.NotFound();
        if (!WebhookResults.FixedTimeEquals(context.Request.Headers["X-Telegram-Bot-Api-Secret-Token"], _o.WebhookSecret))
        {
            ChannelMetrics.Inbound.WithLabels(Platform, "rejected").Inc();
            Logger.LogWarning("Telegram webhook call with a missing or wrong X-Telegram-Bot-Api-Secret-Token rejected");
            return Results.Unauthorized();
        }
        Envelope? envelope;
        try
        {
            var update = await JsonSerializer.DeserializeAsync<Update>(context.Request.Body, JsonBotAPI.Options, context.RequestAborted).ConfigureAwait(false)
                ?? throw new JsonException("empty body");
            envelope = TelegramNormalizer.Normalize(update, _botId);
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException or ArgumentException)
        {
            ChannelMetrics.Inbound.WithLabels(Platform, "rejected").Inc();
            Logger.LogWarning("Telegram webhook body is malformed: {Error}", ex.Message);
            return Results.BadRequest(new { error = "malformed update: " + ex.Message });
        }
        if (envelope is null) return Results.Ok();
        return WebhookResults.From(TryPublish(envelope), context);
    }

    protected override string Render(string text) => Markup.ToTelegramHtml(text);

    protected override async Task DeliverPartAsync(OutboxEntry entry, string renderedPart, int part, CancellationToken cancellationToken)
    {
        var m = entry.Message;
        long chat = ChatId(m.ConversationId);
        // A reply that was streamed: the draft message becomes the final text instead of a second message.
        if (part == 0 && _drafts.TryGetValue(m.InReplyTo, out var draft) && draft.MessageId is { } draftId)
        {
            try
            {
                await Call(c => _bot.EditMessageText(chat, draftId, renderedPart, ParseMode.Html, cancellationToken: c), cancellationToken).ConfigureAwait(false);
            }
            catch (PermanentDeliveryException ex) when (ex.Message.Contains("not modified", StringComparison.OrdinalIgnoreCase))
            {
                // The last delta already showed exactly this text.
            }
            _drafts.TryRemove(m.InReplyTo, out _);
            return;
        }
        ReplyParameters? reply = part == 0 && ReplyMessageId(m.ReplyToPlatformMessageId) is { } id
            ? new ReplyParameters { MessageId = id, AllowSendingWithoutReply = true }
            : null;
        await Call(c => _bot.SendMessage(chat, renderedPart, ParseMode.Html, replyParameters: reply, cancellationToken: c), cancellationToken).ConfigureAwait(false);
        if (part == 0) _drafts.TryRemove(m.InReplyTo, out _);
    }

    protected override Task SendTypingAsync(OutboundMessage message, CancellationToken cancellationToken) =>
        Call(c => _bot.SendChatAction(ChatId(message.ConversationId), ChatAction.Typing, cancellationToken: c), cancellationToken);

    /// <summary>Streaming: the first delta sends a message, later ones edit it (at most once a second).</summary>
    protected override async Task OnDeltaAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        var draft = _drafts.GetOrAdd(message.InReplyTo, _ => new Draft());
        string text;
        lock (draft)
        {
            draft.Text += message.Text;
            if (draft.MessageId is not null && Clock.GetUtcNow() - draft.LastEdit < DraftEditInterval) return;
            draft.LastEdit = Clock.GetUtcNow();
            text = draft.Text;
        }
        if (text.Length == 0 || text.Length > MessageLimit) return; // too long to stream: the final reply is split instead
        long chat = ChatId(message.ConversationId);
        if (draft.MessageId is { } id)
        {
            await Call(c => _bot.EditMessageText(chat, id, text, cancellationToken: c), cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var sent = await Call(c => _bot.SendMessage(chat, text, cancellationToken: c), cancellationToken).ConfigureAwait(false);
            draft.MessageId = sent.Id;
        }
    }

    private static long ChatId(string conversationId) =>
        long.TryParse(conversationId, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out long id)
            ? id : throw new PermanentDeliveryException($"'{conversationId}' is not a Telegram chat id.");

    /// <summary>"123" or "123:edit:…" (an edit's id) → 123.</summary>
    private static int? ReplyMessageId(string? platformMessageId)
    {
        if (platformMessageId is null) return null;
        int colon = platformMessageId.IndexOf(':');
        string head = colon >= 0 ? platformMessageId[..colon] : platformMessageId;
        return int.TryParse(head, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int id) ? id : null;
    }

    /// <summary>Maps Telegram.Bot's exceptions onto ours: 429 (retry_after) → rate limit, 5xx/network → transient, other → permanent.</summary>
    private static async Task<T> Call<T>(Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call(cancellationToken).ConfigureAwait(false);
        }
        catch (ApiRequestException ex) when (ex.ErrorCode == 429)
        {
            throw new RateLimitedException(Platforms.Telegram, TimeSpan.FromSeconds(ex.Parameters?.RetryAfter ?? 1));
        }
        catch (ApiRequestException ex) when (ex.ErrorCode >= 500 || ex.ErrorCode == 409)
        {
            // 409: another getUpdates or a webhook competes with us; it may clear up.
            throw new TransientChannelException($"Telegram {ex.ErrorCode}: {ex.Message}", ex);
        }
        catch (ApiRequestException ex)
        {
            throw new PermanentDeliveryException($"Telegram {ex.ErrorCode}: {ex.Message}");
        }
        catch (RequestException ex) when (ex.InnerException is HttpRequestException or IOException or JsonException)
        {
            throw new TransientChannelException("Telegram request failed: " + ex.Message, ex);
        }
    }

    private static async Task Call(Func<CancellationToken, Task> call, CancellationToken cancellationToken) =>
        await Call(async c => { await call(c).ConfigureAwait(false); return true; }, cancellationToken).ConfigureAwait(false);

    public override async ValueTask DisposeAsync()
    {
        if (!BeginDispose()) return;
        await base.DisposeAsync().ConfigureAwait(false);
        _http.Dispose();
    }

    private sealed class Draft
    {
        public string Text = "";
        public int? MessageId;
        public DateTimeOffset LastEdit;
    }
}
