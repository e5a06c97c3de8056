using System.Globalization;
using System.Text.Json.Nodes;
using MoltBot.DevTools.Sandbox.Platforms;

namespace MoltBot.DevTools.Sandbox.Simulated;

/// <summary>iMessage users behind BlueBubbles: new-message webhooks in, REST message/text sends out.</summary>
public sealed class IMessageUsers() : FakePlatformUsers<FakeBlueBubblesServer>(new FakeBlueBubblesServer { Password = Secret() })
{
    private readonly WebhookSender _webhooks = new();
    private readonly string _webhookSecret = Secret();
    private Uri? _webhook;

    public override string Name => "imessage";

    public override IEnumerable<KeyValuePair<string, string>> Settings =>
    [
        new("Channels:IMessage:Enabled", "true"),
        new("Channels:IMessage:BaseUrl", Server.Url),
        new("Channels:IMessage:Password", Server.Password),
        new("Channels:IMessage:WebhookSecret", _webhookSecret),
    ];

    public override Task AttachAsync(Uri moltBot, CancellationToken cancellationToken)
    {
        _webhook = new Uri(moltBot, "/channels/imessage/webhook?secret=" + Uri.EscapeDataString(_webhookSecret));
        return Task.CompletedTask;
    }

    public override string Conversation(int user) => "iMessage;-;+1555" + user.ToString("D7", CultureInfo.InvariantCulture);

    public override async Task SendAsync(string conversation, string messageId, string text, string? language, CancellationToken cancellationToken)
    {
        string address = conversation[(conversation.LastIndexOf(';') + 1)..];
        string body = FakeBlueBubblesServer.NewMessage(messageId, conversation, address, text, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        await _webhooks.PostAsync(_webhook!, body, null, cancellationToken).ConfigureAwait(false);
    }

    protected override void OnDelivered(string method, JsonObject body)
    {
        if (body["chatGuid"]?.GetValue<string>() is { } chat) OnReplied(chat, body["message"]?.GetValue<string>() ?? "");
    }

    public override async ValueTask DisposeAsync()
    {
        _webhooks.Dispose();
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
