using System.Security.Cryptography;
using MoltBot.DevTools.Sandbox.Platforms;

namespace MoltBot.DevTools.Sandbox.Simulated;

/// <summary>
/// One platform as its users see it in the sandbox: a simulated user sends a message the way the platform would
/// deliver it to MoltBot (webhook, socket event, long-poll update, gateway frame), and every reply MoltBot sends
/// to a user is reported with that user's conversation and the text as common markup.
/// </summary>
public abstract class SimulatedPlatform : IAsyncDisposable
{
    /// <summary>The platform name of envelopes ("whatsapp", "imessage", "telegram", "discord", "slack", "web").</summary>
    public abstract string Name { get; }

    /// <summary>What a developer opens or points a client at: the fake platform's root or the web chat page.</summary>
    public abstract string Url { get; }

    /// <summary>Raised for every final reply: (conversation, text). Called from the fake's or socket's thread.</summary>
    public event Action<string, string>? Replied;

    /// <summary>Starts the fake platform server (if any) before MoltBot starts.</summary>
    public virtual Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Configuration that points MoltBot's adapter at the fake, with this session's credentials.</summary>
    public abstract IEnumerable<KeyValuePair<string, string>> Settings { get; }

    /// <summary>Called once MoltBot listens, for platforms that call into MoltBot (webhooks, web chat).</summary>
    public virtual Task AttachAsync(Uri moltBot, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The conversation of simulated user number <paramref name="user"/> (1-based), in the platform's id format.</summary>
    public abstract string Conversation(int user);

    /// <summary>Sends <paramref name="text"/> as the user of <paramref name="conversation"/>; <paramref name="messageId"/> is unique per session.</summary>
    public abstract Task SendAsync(string conversation, string messageId, string text, string? language, CancellationToken cancellationToken);

    /// <summary>Raised when the platform refused a user's message after it was sent: (conversation, reason).</summary>
    public event Action<string, string>? Refused;

    protected void OnReplied(string conversation, string text) => Replied?.Invoke(conversation, text);

    protected void OnRefused(string conversation, string reason) => Refused?.Invoke(conversation, reason);

    /// <summary>A credential made for this session only (never a real platform's).</summary>
    protected static string Secret(int bytes = 16) => RandomNumberGenerator.GetHexString(bytes * 2, lowercase: true);

    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    /// <summary>The simulated platforms of a sandbox session, in the order the transcript lists them.</summary>
    public static IReadOnlyList<SimulatedPlatform> All() =>
    [
        new WhatsAppUsers(), new IMessageUsers(), new TelegramUsers(), new DiscordUsers(), new SlackUsers(), new WebChatUsers(),
    ];
}

/// <summary>A simulated platform backed by one of the fake platform servers.</summary>
public abstract class FakePlatformUsers<TServer>(TServer server) : SimulatedPlatform where TServer : FakeServer
{
    public TServer Server { get; } = server;

    public override string Url => Server.Url;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        Server.Delivered += OnDelivered;
        await Server.StartAsync().ConfigureAwait(false);
    }

    /// <summary>An API call of MoltBot that carries a message to a user: report it if it is a final reply.</summary>
    protected abstract void OnDelivered(string method, System.Text.Json.Nodes.JsonObject body);

    public override async ValueTask DisposeAsync()
    {
        Server.Delivered -= OnDelivered;
        await Server.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
