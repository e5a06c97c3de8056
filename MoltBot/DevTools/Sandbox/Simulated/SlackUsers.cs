using System.Globalization;
using System.Text.Json.Nodes;
using MoltBot.Channels.Common;
using MoltBot.DevTools.Sandbox.Platforms;

namespace MoltBot.DevTools.Sandbox.Simulated;

/// <summary>Slack users in direct messages: events_api envelopes over Socket Mode; replies are chat.postMessage.</summary>
public sealed class SlackUsers() : FakePlatformUsers<FakeSlackServer>(new FakeSlackServer
{
    AppToken = "xapp-1-" + Secret(), BotToken = "xoxb-" + Secret(),
})
{
    private long _ts;

    public override string Name => "slack";

    public override IEnumerable<KeyValuePair<string, string>> Settings =>
    [
        new("Channels:Slack:Enabled", "true"),
        new("Channels:Slack:BaseUrl", Server.Url + "/api"),
        new("Channels:Slack:AppToken", Server.AppToken),
        new("Channels:Slack:BotToken", Server.BotToken),
    ];

    public override string Conversation(int user) => "D" + user.ToString("D8", CultureInfo.InvariantCulture);

    public override Task SendAsync(string conversation, string messageId, string text, string? language, CancellationToken cancellationToken)
    {
        // Slack's ts is seconds.microseconds and unique per channel; a session counter keeps it unique.
        string ts = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture) + "."
            + (Interlocked.Increment(ref _ts) % 1_000_000).ToString("D6", CultureInfo.InvariantCulture);
        string envelopeId = "env-" + messageId;
        Server.Publish(envelopeId, FakeSlackServer.MessageEvent(envelopeId, conversation, "U" + conversation[1..], text, ts));
        return Task.CompletedTask;
    }

    protected override void OnDelivered(string method, JsonObject body)
    {
        if (body["channel"]?.GetValue<string>() is { } channel) OnReplied(channel, Markup.FromSlackMrkdwn(body["text"]?.GetValue<string>() ?? ""));
    }
}
