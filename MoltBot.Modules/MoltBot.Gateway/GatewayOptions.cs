using System.ComponentModel.DataAnnotations;

namespace MoltBot.Gateway;

/// <summary>Configuration section "Gateway": WebSocket protocol limits, HTTP API and web chat settings.</summary>
public sealed class GatewayOptions
{
    public const string Section = "Gateway";

    /// <summary>Bearer tokens accepted by /ws and /v1/* (each at least 16 characters). Empty: only the web-chat token.</summary>
    public List<string> Tokens { get; set; } = [];

    /// <summary>Serve a per-start web-chat token at GET /webchat/token to loopback clients (see docs/protocol.md).</summary>
    public bool LoopbackWebChatToken { get; set; } = true;

    [Range(1, 1_000_000, ErrorMessage = "Gateway:MaxConnections must be between 1 and 1000000 (WebSocket connections).")]
    public int MaxConnections { get; set; } = 10_000;

    /// <summary>Sessions held at once (live or resumable); over it, new sessions are refused with close code 1013.</summary>
    [Range(1, 10_000_000, ErrorMessage = "Gateway:MaxSessions must be between 1 and 10000000 (sessions).")]
    public int MaxSessions { get; set; } = 20_000;

    [Range(256, 16 * 1024 * 1024, ErrorMessage = "Gateway:MaxFrameBytes must be between 256 and 16777216 (bytes).")]
    public int MaxFrameBytes { get; set; } = 64 * 1024;

    [Range(1, 100_000, ErrorMessage = "Gateway:MaxTextLength must be between 1 and 100000 (characters).")]
    public int MaxTextLength { get; set; } = 8_000;

    [Range(1, 3600, ErrorMessage = "Gateway:HeartbeatIntervalSeconds must be between 1 and 3600.")]
    public int HeartbeatIntervalSeconds { get; set; } = 15;

    [Range(1, 600, ErrorMessage = "Gateway:HeartbeatTimeoutSeconds must be between 1 and 600.")]
    public int HeartbeatTimeoutSeconds { get; set; } = 5;

    [Range(1, 600, ErrorMessage = "Gateway:AuthTimeoutSeconds must be between 1 and 600.")]
    public int AuthTimeoutSeconds { get; set; } = 10;

    [Range(0.1, 10_000, ErrorMessage = "Gateway:RatePerSecond must be between 0.1 and 10000 (client frames per second).")]
    public double RatePerSecond { get; set; } = 10;

    [Range(1, 100_000, ErrorMessage = "Gateway:RateBurst must be between 1 and 100000 (frames).")]
    public int RateBurst { get; set; } = 30;

    /// <summary>Rate-limited frames tolerated (each answered with an error) before the connection is closed with 1008.</summary>
    [Range(1, 100_000, ErrorMessage = "Gateway:RateViolationsBeforeClose must be between 1 and 100000.")]
    public int RateViolationsBeforeClose { get; set; } = 20;

    /// <summary>Frames queued for one connection; a reader slower than this is disconnected.</summary>
    [Range(4, 100_000, ErrorMessage = "Gateway:SendBufferFrames must be between 4 and 100000 (frames).")]
    public int SendBufferFrames { get; set; } = 512;

    /// <summary>
    /// How long an <c>ack</c> may wait for the next frame of its session (usually its <c>reply.final</c>) so that both
    /// leave together: one socket write and one client wake-up instead of two. 0 sends every ack at once.
    /// </summary>
    [Range(0, 1_000, ErrorMessage = "Gateway:AckHoldMilliseconds must be between 0 (ack at once) and 1000 (milliseconds).")]
    public int AckHoldMilliseconds { get; set; } = 100;

    /// <summary>How long a disconnected session stays resumable.</summary>
    [Range(0, 86_400, ErrorMessage = "Gateway:ResumeWindowSeconds must be between 0 and 86400.")]
    public int ResumeWindowSeconds { get; set; } = 120;

    /// <summary>Server events kept per session for resume.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Gateway:ResumeBufferEvents must be between 1 and 1000000 (events).")]
    public int ResumeBufferEvents { get; set; } = 2_000;

    /// <summary>
    /// Bytes of frames all sessions together keep for resume. Over it, the oldest frames of any session are dropped
    /// first (a resent message id is still answered with its reply: the idempotency entry keeps its own). Default 16 MiB.
    /// </summary>
    [Range(typeof(long), "65536", "17179869184", ErrorMessage = "Gateway:ResumeBufferTotalBytes must be between 65536 and 17179869184 (bytes of resume frames kept by all sessions together).")]
    public long ResumeBufferTotalBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>Client message ids remembered per session for idempotent resends.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Gateway:IdempotencyWindow must be between 1 and 1000000 (ids per session).")]
    public int IdempotencyWindow { get; set; } = 1_000;

    [Range(1, 10_000, ErrorMessage = "Gateway:HistoryPerConversation must be between 1 and 10000 (messages).")]
    public int HistoryPerConversation { get; set; } = 200;

    [Range(1, 10_000_000, ErrorMessage = "Gateway:HistoryConversations must be between 1 and 10000000 (conversations kept in memory).")]
    public int HistoryConversations { get; set; } = 10_000;

    /// <summary>
    /// Bytes of history all conversations together keep in memory (the least recently used conversation is forgotten
    /// first and is then read from the memory module's store). Default 16 MiB.
    /// </summary>
    [Range(typeof(long), "65536", "17179869184", ErrorMessage = "Gateway:HistoryTotalBytes must be between 65536 and 17179869184 (bytes of history kept in memory for all conversations together).")]
    public long HistoryTotalBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>How long POST /v1/messages and /v1/chat/completions wait for the final reply.</summary>
    [Range(1, 3600, ErrorMessage = "Gateway:ReplyTimeoutSeconds must be between 1 and 3600.")]
    public int ReplyTimeoutSeconds { get; set; } = 120;

    /// <summary>Seconds a client is told to wait (Retry-After, retryAfterMs) when the inbound queue is full.</summary>
    [Range(1, 3600, ErrorMessage = "Gateway:RetryAfterSeconds must be between 1 and 3600.")]
    public int RetryAfterSeconds { get; set; } = 2;

    /// <summary>The model id /v1/models lists first and /v1/chat/completions echoes when the request names none.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Gateway:ModelName must be a non-empty model id (default \"moltbot\").")]
    public string ModelName { get; set; } = "moltbot";
}
