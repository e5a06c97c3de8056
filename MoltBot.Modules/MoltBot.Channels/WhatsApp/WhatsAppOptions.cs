using MoltBot.Channels.Common;

namespace MoltBot.Channels.WhatsApp;

/// <summary>Channels:WhatsApp — WhatsApp Business Cloud API.</summary>
public sealed class WhatsAppOptions : ChannelOptions
{
    public const string SectionName = "Channels:WhatsApp";
    public override string Section => SectionName;

    public WhatsAppOptions() => BaseUrl = "https://graph.facebook.com/v21.0";

    /// <summary>System-user or app access token (Bearer) for the Graph API.</summary>
    public string AccessToken { get; set; } = "";

    /// <summary>The business phone number id messages are sent from (POST /{PhoneNumberId}/messages).</summary>
    public string PhoneNumberId { get; set; } = "";

    /// <summary>App secret: key of the X-Hub-Signature-256 HMAC over every webhook POST.</summary>
    public string AppSecret { get; set; } = "";

    /// <summary>The token Meta echoes in the GET verification handshake (hub.verify_token).</summary>
    public string VerifyToken { get; set; } = "";

    /// <summary>Optional approved template (one body parameter) used to answer outside the 24-hour window.</summary>
    public string WindowTemplateName { get; set; } = "";

    public string WindowTemplateLanguage { get; set; } = "en_US";

    public override void ValidatePlatform(List<string> errors)
    {
        Require(errors, AccessToken, nameof(AccessToken), "Graph API access token");
        Require(errors, PhoneNumberId, nameof(PhoneNumberId), "business phone number id");
        Require(errors, AppSecret, nameof(AppSecret), "app secret that signs webhooks");
        Require(errors, VerifyToken, nameof(VerifyToken), "webhook verification token");
    }
}
