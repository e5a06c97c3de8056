namespace MoltBot.DevTools.Sandbox;

/// <summary>What `moltbot sandbox` was asked to do.</summary>
public sealed record SandboxOptions
{
    /// <summary>A story .json file or a folder of them; null plays the bundled default (stories/basics.json).</summary>
    public string? Script { get; init; }

    /// <summary>Simulated users per platform (1..100); each plays every story in its own conversation.</summary>
    public int Users { get; init; } = 1;

    /// <summary>MoltBot's HTTP port on 127.0.0.1 (web chat, gateway, webhooks); 0 picks a free one.</summary>
    public int Port { get; init; }

    /// <summary>After the script, keep everything running until Ctrl+C.</summary>
    public bool KeepRunning { get; init; }

    /// <summary>How long a simulated user waits for each reply before counting it as missing (1..600 s).</summary>
    public int ReplyTimeoutSeconds { get; init; } = 30;

    /// <summary>Where the session's data directory is made (kept afterwards); null: a temporary folder, deleted at the end.</summary>
    public string? DataRoot { get; init; }

    /// <summary>Configuration overrides for MoltBot (--Section:Key value), applied after the sandbox's own.</summary>
    public IReadOnlyList<string> HostArgs { get; init; } = [];

    /// <summary>One-line errors for options out of range (null when all are valid).</summary>
    public string? Validate() =>
        Users is < 1 or > 100 ? $"--users must be between 1 and 100; got {Users}."
        : Port is < 0 or > 65535 ? $"--port must be between 0 and 65535; got {Port}."
        : ReplyTimeoutSeconds is < 1 or > 600 ? $"--reply-timeout must be between 1 and 600 (s); got {ReplyTimeoutSeconds}."
        : null;
}
