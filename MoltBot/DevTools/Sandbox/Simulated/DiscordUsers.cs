using System.Globalization;
using System.Text.Json.Nodes;
using MoltBot.Channels.Common;
using MoltBot.DevTools.Sandbox.Platforms;

namespace MoltBot.DevTools.Sandbox.Simulated;

/// <summary>Discord users in direct messages: MESSAGE_CREATE dispatches on the Gateway; replies are REST channel messages.</summary>
public sealed class DiscordUsers() : FakePlatformUsers<FakeDiscordServer>(new FakeDiscordServer { Token = Secret(24) })
{
    public override string Name => "discord";

    public override IEnumerable<KeyValuePair<string, string>> Settings =>
    [
        new("Channels:Discord:Enabled", "true"),
        new("Channels:Discord:BaseUrl", Server.Url + "/api/v10"),
        new("Channels:Discord:Token", Server.Token),
    ];

    public override string Conversation(int user) => (1_100_000_000_000_000_000L + user).ToString(CultureInfo.InvariantCulture);

    public override Task SendAsync(string conversation, string messageId, string text, string? language, CancellationToken cancellationToken)
    {
        string userId = (1_200_000_000_000_000_000L + long.Parse(conversation, CultureInfo.InvariantCulture) % 1_000_000_000L).ToString(CultureInfo.InvariantCulture);
        var message = FakeDiscordServer.Message(messageId, conversation, userId, text, guild: null);
        message["timestamp"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffffzzz", CultureInfo.InvariantCulture);
        return Server.DispatchAsync("MESSAGE_CREATE", message);
    }

    protected override void OnDelivered(string method, JsonObject body)
    {
        // channels/{id}/messages
        string[] parts = method.Split('/');
        if (parts is ["channels", var channel, "messages"]) OnReplied(channel, Markup.FromDiscord(body["content"]?.GetValue<string>() ?? ""));
    }
}
