using MoltBot.Channels.Common;

namespace MoltBot.Channels.Discord;

/// <summary>Channels:Discord — Discord Gateway v10 (WebSocket) for events, REST v10 for replies.</summary>
public sealed class DiscordOptions : ChannelOptions
{
    public const string SectionName = "Channels:Discord";
    public override string Section => SectionName;

    /// <summary>GUILDS | GUILD_MESSAGES | DIRECT_MESSAGES | MESSAGE_CONTENT | GUILD_MESSAGE_REACTIONS | DIRECT_MESSAGE_REACTIONS.</summary>
    public const int DefaultIntents = 1 | 512 | 1024 | 4096 | 8192 | 32768;

    public DiscordOptions() => BaseUrl = "https://discord.com/api/v10";

    /// <summary>Bot token (sent as "Authorization: Bot &lt;token&gt;" and in IDENTIFY).</summary>
    public string Token { get; set; } = "";

    /// <summary>Gateway intents bit field sent in IDENTIFY (MESSAGE_CONTENT is privileged: enable it in the portal).</summary>
    public int Intents { get; set; } = DefaultIntents;

    public override void ValidatePlatform(List<string> errors)
    {
        Require(errors, Token, nameof(Token), "bot token");
        if (Intents < 0 || Intents > (1 << 26)) errors.Add($"{Section}:Intents must be a gateway intents bit field between 0 and {1 << 26}; got {Intents}.");
    }
}
