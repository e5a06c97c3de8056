using MoltBot.Channels.Common;

namespace MoltBot.Channels.Telegram;

/// <summary>Channels:Telegram — Telegram Bot API, by long polling or webhook.</summary>
public sealed class TelegramOptions : ChannelOptions
{
    public const string SectionName = "Channels:Telegram";
    public override string Section => SectionName;

    public TelegramOptions() => BaseUrl = "https://api.telegram.org";

    /// <summary>Bot token from @BotFather ("123456:ABC…"); requests go to {BaseUrl}/bot{Token}/{method}.</summary>
    public string Token { get; set; } = "";

    /// <summary>"polling" (getUpdates) or "webhook" (Telegram POSTs to /channels/telegram/webhook).</summary>
    public string Mode { get; set; } = "polling";

    /// <summary>The secret_token given to setWebhook; checked against X-Telegram-Bot-Api-Secret-Token. Required in webhook mode.</summary>
    public string WebhookSecret { get; set; } = "";

    /// <summary>Long-polling timeout of getUpdates (0..50 s); must be below RequestTimeoutSeconds.</summary>
    public int PollTimeoutSeconds { get; set; } = 25;

    public bool IsWebhook => string.Equals(Mode, "webhook", StringComparison.OrdinalIgnoreCase);

    public override void ValidatePlatform(List<string> errors)
    {
        Require(errors, Token, nameof(Token), "bot token from @BotFather");
        if (!string.IsNullOrEmpty(Token) && !Token.Contains(':')) errors.Add($"{Section}:Token must look like '123456:ABC…' (bot id, colon, secret).");
        if (!string.Equals(Mode, "polling", StringComparison.OrdinalIgnoreCase) && !IsWebhook)
        {
            errors.Add($"{Section}:Mode must be \"polling\" or \"webhook\" (got '{Mode}').");
        }
        if (IsWebhook) Require(errors, WebhookSecret, nameof(WebhookSecret), "secret_token registered with setWebhook");
        if (PollTimeoutSeconds < 0 || PollTimeoutSeconds > 50) errors.Add($"{Section}:PollTimeoutSeconds must be between 0 and 50 (s); got {PollTimeoutSeconds}.");
        else if (PollTimeoutSeconds >= RequestTimeoutSeconds)
        {
            errors.Add($"{Section}:PollTimeoutSeconds ({PollTimeoutSeconds}) must be below {Section}:RequestTimeoutSeconds ({RequestTimeoutSeconds}).");
        }
    }
}
