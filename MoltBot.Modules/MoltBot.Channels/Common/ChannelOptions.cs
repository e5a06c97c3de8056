namespace MoltBot.Channels.Common;

/// <summary>
/// Settings every platform shares (Channels:{Platform}:...). Validated at start by <see cref="ChannelOptionsValidator{T}"/>
/// with messages that name the full key, so the platform section is part of every error.
/// </summary>
public abstract class ChannelOptions
{
    public bool Enabled { get; set; }

    /// <summary>The API root the platform documents; tests point it at a local fake server.</summary>
    public string BaseUrl { get; set; } = "";

    /// <summary>Polly retry attempts per request (3..10).</summary>
    public int MaxRetryAttempts { get; set; } = 5;

    /// <summary>First retry delay; it doubles per attempt, with jitter (10..60000 ms).</summary>
    public int RetryBaseDelayMilliseconds { get; set; } = 1000;

    /// <summary>Timeout of one request attempt (1..300 s).</summary>
    public int RequestTimeoutSeconds { get; set; } = 30;

    /// <summary>How long the circuit stays open after repeated failures (1..600 s).</summary>
    public int CircuitBreakSeconds { get; set; } = 30;

    /// <summary>Health ping / heartbeat check interval (1..3600 s); each ping has a 5 s timeout.</summary>
    public int PingIntervalSeconds { get; set; } = 30;

    /// <summary>Platform message ids remembered on disk to ignore replays across restarts (0..10000000).</summary>
    public int DedupCapacity { get; set; } = 100_000;

    /// <summary>The section name, e.g. "Channels:Telegram", for error messages.</summary>
    public abstract string Section { get; }

    /// <summary>Platform-specific checks; only called when the platform is enabled.</summary>
    public abstract void ValidatePlatform(List<string> errors);

    protected void Require(List<string> errors, string? value, string key, string what)
    {
        if (string.IsNullOrWhiteSpace(value)) errors.Add($"{Section}:{key} is required when {Section}:Enabled is true ({what}).");
    }
}
