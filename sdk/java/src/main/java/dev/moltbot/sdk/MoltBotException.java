package dev.moltbot.sdk;

import java.util.Map;

/**
 * Every error of the SDK. {@link #code()} is the protocol error code (docs/protocol.md, "Error codes", e.g.
 * {@code text_too_long}); {@link #closeCode()} the WebSocket close code when the server closed the connection.
 */
public class MoltBotException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String code;
    private final int closeCode;
    private final String messageId;
    private final long retryAfterMs;

    public MoltBotException(String code, String message, int closeCode, String messageId, long retryAfterMs) {
        super(code + ": " + message);
        this.code = code;
        this.closeCode = closeCode;
        this.messageId = messageId;
        this.retryAfterMs = retryAfterMs;
    }

    public MoltBotException(String code, String message) {
        this(code, message, 0, null, 0);
    }

    /** The protocol error code. */
    public String code() {
        return code;
    }

    /** The WebSocket close code, or 0. */
    public int closeCode() {
        return closeCode;
    }

    /** The client message id the error is about, or null. */
    public String messageId() {
        return messageId;
    }

    /** How long the server asks to wait before retrying (rate_limited, queue_full), or 0. */
    public long retryAfterMs() {
        return retryAfterMs;
    }

    static MoltBotException fromFrame(Map<String, Object> frame) {
        String code = Frames.str(frame, "code");
        if (code == null || code.isEmpty()) code = "unknown";
        String message = String.valueOf(frame.getOrDefault("message", ""));
        String id = Frames.str(frame, "id");
        long retry = Frames.num(frame, "retryAfterMs");
        return switch (code) {
            case "text_too_long" -> new TextTooLongException(message, id);
            case "resume_failed" -> new ResumeFailedException(message);
            default -> new MoltBotException(code, message, 0, id, retry);
        };
    }

    static MoltBotException fromClose(int closeCode, String reason) {
        return switch (closeCode) {
            case MoltBotClient.CLOSE_AUTH_FAILED -> new AuthenticationException("auth_failed", reason, closeCode);
            case MoltBotClient.CLOSE_AUTH_TIMEOUT -> new AuthenticationException("auth_timeout", reason, closeCode);
            case MoltBotClient.CLOSE_MESSAGE_TOO_BIG -> new MessageTooBigException(reason, closeCode, null);
            case MoltBotClient.CLOSE_SESSION_TAKEN_OVER -> new MoltBotException("session_taken_over", reason, closeCode, null, 0);
            case MoltBotClient.CLOSE_TRY_AGAIN_LATER -> new ConnectionLostException("too_many_sessions", reason, closeCode); // retried
            default -> new ConnectionLostException(reason, closeCode);
        };
    }
}
