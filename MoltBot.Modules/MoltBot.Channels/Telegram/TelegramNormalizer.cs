using System.Text;
using System.Text.Json;
using MoltBot.Contracts.Messaging;
using Telegram.Bot;
using Telegram.Bot.Types;
using Telegram.Bot.Types.Enums;
using MessageType = MoltBot.Contracts.Messaging.MessageType;

namespace MoltBot.Channels.Telegram;

/// <summary>Turns a Bot API Update into an envelope (messages, edits, media, /commands, reactions, service messages).</summary>
public static class TelegramNormalizer
{
    public static Envelope? Normalize(Update update, string account)
    {
        string raw = JsonSerializer.Serialize(update, JsonBotAPI.Options);
        if (update.MessageReaction is { } reaction) return Reaction(reaction, account, raw);
        bool edit = update.EditedMessage is not null || update.EditedChannelPost is not null;
        var m = update.Message ?? update.EditedMessage ?? update.ChannelPost ?? update.EditedChannelPost;
        if (m is null) return null;
        if (m.From?.IsBot == true && m.From.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) == account) return null;

        var kind = MessageType.Text;
        string text = ToMarkup(m.Text ?? m.Caption ?? "", m.Text is not null ? m.Entities : m.CaptionEntities);
        var attachments = new List<Attachment>();
        if (m.Photo is { Length: > 0 } photos)
        {
            var largest = photos.MaxBy(p => (long)p.Width * p.Height)!;
            kind = MessageType.Image;
            attachments.Add(new Attachment { Kind = "image", Id = largest.FileId, SizeBytes = largest.FileSize });
        }
        else if (m.Sticker is { } sticker)
        {
            kind = MessageType.Image;
            attachments.Add(new Attachment { Kind = "sticker", Id = sticker.FileId, SizeBytes = sticker.FileSize });
            if (text.Length == 0) text = sticker.Emoji ?? "";
        }
        else if (m.Voice is { } voice)
        {
            kind = MessageType.Audio;
            attachments.Add(new Attachment { Kind = "voice", Id = voice.FileId, MimeType = voice.MimeType, SizeBytes = voice.FileSize });
        }
        else if (m.Audio is { } audio)
        {
            kind = MessageType.Audio;
            attachments.Add(new Attachment { Kind = "audio", Id = audio.FileId, MimeType = audio.MimeType, FileName = audio.FileName, SizeBytes = audio.FileSize });
        }
        else if (m.Document is { } doc)
        {
            kind = MessageType.File;
            attachments.Add(new Attachment { Kind = "file", Id = doc.FileId, MimeType = doc.MimeType, FileName = doc.FileName, SizeBytes = doc.FileSize });
        }
        else if (m.Video is { } video)
        {
            kind = MessageType.File;
            attachments.Add(new Attachment { Kind = "video", Id = video.FileId, MimeType = video.MimeType, FileName = video.FileName, SizeBytes = video.FileSize });
        }
        else if (m.NewChatMembers is { Length: > 0 } members)
        {
            kind = MessageType.System;
            text = "joined: " + string.Join(", ", members.Select(u => u.Username ?? u.FirstName));
        }
        else if (m.LeftChatMember is { } left)
        {
            kind = MessageType.System;
            text = "left: " + (left.Username ?? left.FirstName);
        }
        else if (m.Text is null && m.Caption is null)
        {
            kind = MessageType.System;
            text = "unsupported message: " + m.Type;
        }
        if (kind == MessageType.Text && m.Entities is { Length: > 0 } ents && ents[0].Type == MessageEntityType.BotCommand && ents[0].Offset == 0)
        {
            kind = MessageType.Command;
            // "/help@MoltBot args" → "/help args": the bot name only disambiguates in groups.
            int at = text.IndexOf('@');
            int end = ents[0].Length;
            if (at > 0 && at < end) text = text[..at] + text[end..];
        }
        string chat = Id(m.Chat.Id);
        string messageId = Id(m.Id);
        string pmid = messageId;
        long ts = new DateTimeOffset(DateTime.SpecifyKind(m.Date, DateTimeKind.Utc)).ToUnixTimeMilliseconds();
        string? replyTo = m.ReplyToMessage is { } r ? Id(r.Id) : null;
        if (edit)
        {
            kind = MessageType.Edit;
            long editMs = m.EditDate is { } ed ? new DateTimeOffset(DateTime.SpecifyKind(ed, DateTimeKind.Utc)).ToUnixTimeMilliseconds() : ts;
            pmid = messageId + ":edit:" + editMs;
            ts = editMs;
            replyTo = messageId;
        }
        string user = m.From is { } from ? Id(from.Id) : m.SenderChat is { } sc ? Id(sc.Id) : chat;
        return new Envelope
        {
            Id = $"{Platforms.Telegram}:{account}:{chat}:{pmid}",
            Platform = Platforms.Telegram,
            PlatformMessageId = pmid,
            Account = account,
            ConversationId = chat,
            UserId = user,
            UserDisplayName = m.From is { } f ? (f.FirstName + " " + f.LastName).Trim() : m.Chat.Title,
            TimestampMs = ts,
            Type = kind,
            Text = text,
            Attachments = attachments,
            ReplyToId = replyTo,
            Language = m.From?.LanguageCode,
            Raw = raw,
        };
    }

    private static Envelope Reaction(MessageReactionUpdated r, string account, string raw)
    {
        string chat = Id(r.Chat.Id);
        string user = r.User is { } u ? Id(u.Id) : r.ActorChat is { } ac ? Id(ac.Id) : chat;
        string emoji = string.Concat(r.NewReaction.OfType<ReactionTypeEmoji>().Select(e => e.Emoji));
        long ts = new DateTimeOffset(DateTime.SpecifyKind(r.Date, DateTimeKind.Utc)).ToUnixTimeMilliseconds();
        string pmid = $"reaction:{r.MessageId}:{user}:{ts}";
        return new Envelope
        {
            Id = $"{Platforms.Telegram}:{account}:{chat}:{pmid}",
            Platform = Platforms.Telegram,
            PlatformMessageId = pmid,
            Account = account,
            ConversationId = chat,
            UserId = user,
            TimestampMs = ts,
            Type = MessageType.Reaction,
            Text = emoji,
            ReplyToId = Id(r.MessageId),
            Raw = raw,
        };
    }

    /// <summary>Telegram entities (UTF-16 offsets, like .NET strings) → common markup. Overlapping entities keep the outer one.</summary>
    public static string ToMarkup(string text, MessageEntity[]? entities)
    {
        if (entities is not { Length: > 0 }) return text;
        var sb = new StringBuilder(text.Length + 16);
        int pos = 0;
        foreach (var e in entities.OrderBy(e => e.Offset))
        {
            if (e.Offset < pos || e.Offset + e.Length > text.Length) continue; // nested or out of range: keep as plain text
            sb.Append(text, pos, e.Offset - pos);
            string inner = text.Substring(e.Offset, e.Length);
            sb.Append(e.Type switch
            {
                MessageEntityType.Bold => "**" + inner + "**",
                MessageEntityType.Italic => "*" + inner + "*",
                MessageEntityType.Strikethrough => "~~" + inner + "~~",
                MessageEntityType.Code => "`" + inner + "`",
                MessageEntityType.Pre => "```" + (e.Language ?? "") + "\n" + inner + "\n```",
                MessageEntityType.TextLink => "[" + inner + "](" + e.Url + ")",
                MessageEntityType.TextMention when e.User is not null => "<@" + Id(e.User.Id) + ">",
                _ => inner,
            });
            pos = e.Offset + e.Length;
        }
        sb.Append(text, pos, text.Length - pos);
        return sb.ToString();
    }

    private static string Id(long id) => id.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
