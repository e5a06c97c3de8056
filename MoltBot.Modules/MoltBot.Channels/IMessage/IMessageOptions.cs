using MoltBot.Channels.Common;

namespace MoltBot.Channels.IMessage;

/// <summary>Channels:IMessage — iMessage through a BlueBubbles server.</summary>
public sealed class IMessageOptions : ChannelOptions
{
    public const string SectionName = "Channels:IMessage";
    public override string Section => SectionName;

    public IMessageOptions() => BaseUrl = "http://127.0.0.1:1234";

    /// <summary>The BlueBubbles server password (sent as ?password= on every REST call).</summary>
    public string Password { get; set; } = "";

    /// <summary>
    /// BlueBubbles webhooks are unsigned: register the webhook URL with ?secret=&lt;this&gt; and MoltBot refuses
    /// calls without it (401). Required when enabled.
    /// </summary>
    public string WebhookSecret { get; set; } = "";

    /// <summary>"apple-script" (default, works everywhere) or "private-api" (needed for replies and typing).</summary>
    public string SendMethod { get; set; } = "apple-script";

    public override void ValidatePlatform(List<string> errors)
    {
        Require(errors, Password, nameof(Password), "BlueBubbles server password");
        Require(errors, WebhookSecret, nameof(WebhookSecret), "secret query parameter of the webhook URL");
        if (SendMethod is not ("apple-script" or "private-api"))
        {
            errors.Add($"{Section}:SendMethod must be \"apple-script\" or \"private-api\" (got '{SendMethod}').");
        }
    }
}
