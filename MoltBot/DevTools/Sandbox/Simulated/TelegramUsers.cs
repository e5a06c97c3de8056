using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MoltBot.DevTools.Sandbox.Platforms;

namespace MoltBot.DevTools.Sandbox.Simulated;

/// <summary>Telegram users: updates MoltBot fetches with getUpdates (long polling); replies are sendMessage/editMessageText.</summary>
public sealed partial class TelegramUsers() : FakePlatformUsers<FakeTelegramServer>(new FakeTelegramServer
{
    Token = RandomNumberGenerator.GetInt32(100_000, 999_999).ToString(CultureInfo.InvariantCulture) + ":" + Secret(),
})
{
    private int _updateId;
    private int _messageId;

    public override string Name => "telegram";

    public override IEnumerable<KeyValuePair<string, string>> Settings =>
    [
        new("Channels:Telegram:Enabled", "true"),
        new("Channels:Telegram:BaseUrl", Server.Url),
        new("Channels:Telegram:Token", Server.Token),
        new("Channels:Telegram:Mode", "polling"),
    ];

    public override string Conversation(int user) => (700_000_000L + user).ToString(CultureInfo.InvariantCulture);

    public override Task SendAsync(string conversation, string messageId, string text, string? language, CancellationToken cancellationToken)
    {
        long chat = long.Parse(conversation, CultureInfo.InvariantCulture);
        var update = FakeTelegramServer.TextUpdate(Interlocked.Increment(ref _updateId), chat, chat, text, Interlocked.Increment(ref _messageId));
        var from = update["message"]!["from"]!.AsObject();
        if (language is null) from.Remove("language_code"); // no hint: MoltBot detects the language from the text
        else from["language_code"] = language;
        Server.AddUpdate(update);
        return Task.CompletedTask;
    }

    protected override void OnDelivered(string method, JsonObject body)
    {
        // MoltBot streams a draft as plain text and sends (or edits in) the final reply in HTML parse mode.
        if (method is not ("sendMessage" or "editMessageText")
            || !string.Equals(body["parse_mode"]?.GetValue<string>(), "HTML", StringComparison.OrdinalIgnoreCase)) return;
        string chat = body["chat_id"]!.ToJsonString().Trim('"');
        OnReplied(chat, WebUtility.HtmlDecode(Tag().Replace(body["text"]?.GetValue<string>() ?? "", "")));
    }

    [GeneratedRegex("<[^>]+>")]
    private static partial Regex Tag();
}
