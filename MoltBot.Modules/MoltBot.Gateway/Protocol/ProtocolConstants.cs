namespace MoltBot.Gateway.Protocol;

/// <summary>The /ws protocol version announced in hello (docs/protocol.md). Bump on incompatible changes.</summary>
public static class GatewayProtocol
{
    public const int Version = 1;
}

/// <summary>WebSocket close codes the gateway uses (docs/protocol.md, "Close codes").</summary>
public static class CloseCodes
{
    public const int Normal = 1000;
    public const int GoingAway = 1001;
    /// <summary>Rate limit abused.</summary>
    public const int PolicyViolation = 1008;
    /// <summary>A frame exceeded Gateway:MaxFrameBytes.</summary>
    public const int MessageTooBig = 1009;
    public const int InternalError = 1011;
    /// <summary>Gateway:MaxSessions sessions are held; try again later.</summary>
    public const int TryAgainLater = 1013;
    /// <summary>Missing or wrong token in the auth frame.</summary>
    public const int AuthFailed = 4001;
    /// <summary>No auth frame within Gateway:AuthTimeoutSeconds.</summary>
    public const int AuthTimeout = 4002;
    /// <summary>Another connection resumed this session.</summary>
    public const int SessionTakenOver = 4009;
}

/// <summary>Codes of the error frame (docs/protocol.md, "Error codes").</summary>
public static class ErrorCodes
{
    public const string InvalidJson = "invalid_json";
    public const string InvalidFrame = "invalid_frame";
    public const string UnknownType = "unknown_type";
    public const string InvalidField = "invalid_field";
    public const string BinaryNotSupported = "binary_not_supported";
    public const string AuthRequired = "auth_required";
    public const string AlreadyAuthenticated = "already_authenticated";
    public const string TextTooLong = "text_too_long";
    public const string RateLimited = "rate_limited";
    public const string QueueFull = "queue_full";
    public const string ShuttingDown = "shutting_down";
    public const string ResumeFailed = "resume_failed";
}
