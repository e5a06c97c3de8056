namespace MoltBot.Contracts.Messaging;

/// <summary>
/// The normalized inbound message: every channel adapter turns its platform's payload into one of these.
/// Documented as JSON in docs/envelope.md.
/// </summary>
public sealed record Envelope
{
    /// <summary>MoltBot's own id for this message (unique across platforms).</summary>
    public required string Id { get; init; }

    /// <summary>Platform name, one of <see cref="Platforms"/>.</summary>
    public required string Platform { get; init; }

    /// <summary>The platform's own id for the message, used for de-duplication of webhook retries and replays.</summary>
    public string? PlatformMessageId { get; init; }

    /// <summary>The bot account/workspace/phone-number the message arrived on.</summary>
    public string Account { get; init; } = "default";

    /// <summary>Conversation (chat, channel, thread) id as the platform knows it.</summary>
    public required string ConversationId { get; init; }

    /// <summary>Sender id as the platform knows it.</summary>
    public required string UserId { get; init; }

    public string? UserDisplayName { get; init; }

    /// <summary>Milliseconds since the Unix epoch, UTC.</summary>
    public long TimestampMs { get; init; }

    public MessageType Type { get; init; } = MessageType.Text;

    /// <summary>Text in MoltBot's common markup (see docs/envelope.md).</summary>
    public string Text { get; init; } = "";

    public IReadOnlyList<Attachment> Attachments { get; init; } = [];

    /// <summary>Platform message id this one replies to, if any.</summary>
    public string? ReplyToId { get; init; }

    /// <summary>Language hint from the client (BCP-47, e.g. "en", "zh"), if it sent one.</summary>
    public string? Language { get; init; }

    /// <summary>The platform payload as received, kept for debugging (masked by the security module before storage).</summary>
    public string? Raw { get; init; }

    /// <summary>The stable shard key: platform + user id. One user's messages are always handled in order by one worker.</summary>
    public string ShardKey => ShardHash.Key(Platform, UserId);
}

public enum MessageType
{
    Text,
    Image,
    File,
    Audio,
    Reaction,
    Edit,
    Command,
    System,
}

public sealed record Attachment
{
    public required string Kind { get; init; }
    public string? Id { get; init; }
    public string? Url { get; init; }
    public string? MimeType { get; init; }
    public string? FileName { get; init; }
    public long? SizeBytes { get; init; }
}

/// <summary>The platform names used in envelopes, configuration and metrics labels.</summary>
public static class Platforms
{
    public const string Web = "web";
    public const string Http = "http";
    public const string Telegram = "telegram";
    public const string Discord = "discord";
    public const string Slack = "slack";
    public const string WhatsApp = "whatsapp";
    public const string IMessage = "imessage";
    public const string Cli = "cli";
}
