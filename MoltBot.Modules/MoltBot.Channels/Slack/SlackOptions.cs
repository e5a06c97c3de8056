using MoltBot.Channels.Common;

namespace MoltBot.Channels.Slack;

/// <summary>Channels:Slack — Slack Socket Mode (events over a WebSocket) plus the Web API for replies.</summary>
public sealed class SlackOptions : ChannelOptions
{
    public const string SectionName = "Channels:Slack";
    public override string Section => SectionName;

    public SlackOptions() => BaseUrl = "https://slack.com/api";

    /// <summary>App-level token (xapp-…, scope connections:write) for apps.connections.open.</summary>
    public string AppToken { get; set; } = "";

    /// <summary>Bot token (xoxb-…, scope chat:write) for chat.postMessage.</summary>
    public string BotToken { get; set; } = "";

    /// <summary>Answer in the thread of the user's message instead of the channel.</summary>
    public bool ReplyInThread { get; set; }

    public override void ValidatePlatform(List<string> errors)
    {
        Require(errors, AppToken, nameof(AppToken), "app-level token xapp-… with connections:write");
        Require(errors, BotToken, nameof(BotToken), "bot token xoxb-… with chat:write");
    }
}
