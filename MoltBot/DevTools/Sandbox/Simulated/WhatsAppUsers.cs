using System.Globalization;
using System.Text.Json.Nodes;
using MoltBot.Channels.Common;
using MoltBot.DevTools.Sandbox.Platforms;

namespace MoltBot.DevTools.Sandbox.Simulated;

/// <summary>WhatsApp users: messages arrive at MoltBot as signed Cloud API webhooks; replies are Graph API sends.</summary>
public sealed class WhatsAppUsers() : FakePlatformUsers<FakeWhatsAppServer>(new FakeWhatsAppServer
{
    AccessToken = "EAAG" + Secret(), AppSecret = Secret(), VerifyToken = Secret(8),
})
{
    private readonly WebhookSender _webhooks = new();
    private Uri? _webhook;

    public override string Name => "whatsapp";

    public override IEnumerable<KeyValuePair<string, string>> Settings =>
    [
        new("Channels:WhatsApp:Enabled", "true"),
        new("Channels:WhatsApp:BaseUrl", Server.Url),
        new("Channels:WhatsApp:AccessToken", Server.AccessToken),
        new("Channels:WhatsApp:PhoneNumberId", Server.PhoneNumberId),
        new("Channels:WhatsApp:AppSecret", Server.AppSecret),
        new("Channels:WhatsApp:VerifyToken", Server.VerifyToken),
    ];

    public override Task AttachAsync(Uri moltBot, CancellationToken cancellationToken)
    {
        _webhook = new Uri(moltBot, "/channels/whatsapp/webhook");
        return Task.CompletedTask;
    }

    public override string Conversation(int user) => "1555" + user.ToString("D7", CultureInfo.InvariantCulture);

    public override async Task SendAsync(string conversation, string messageId, string text, string? language, CancellationToken cancellationToken)
    {
        string body = FakeWhatsAppServer.TextWebhook(conversation, "wamid." + messageId, text, DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            phoneNumberId: Server.PhoneNumberId);
        var signature = new Dictionary<string, string> { ["X-Hub-Signature-256"] = FakeWhatsAppServer.Sign(body, Server.AppSecret) };
        await _webhooks.PostAsync(_webhook!, body, signature, cancellationToken).ConfigureAwait(false);
    }

    protected override void OnDelivered(string method, JsonObject body)
    {
        if (body["type"]?.GetValue<string>() == "text" && body["to"]?.GetValue<string>() is { } to)
        {
            OnReplied(to, Markup.FromWhatsApp(body["text"]?["body"]?.GetValue<string>() ?? ""));
        }
    }

    public override async ValueTask DisposeAsync()
    {
        _webhooks.Dispose();
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
