package dev.moltbot.sdk;

/** A frame larger than the server's maxFrameBytes (code {@code message_too_big}; the server closes with 1009). */
public final class MessageTooBigException extends MoltBotException {
    private static final long serialVersionUID = 1L;

    MessageTooBigException(String message, int closeCode, String messageId) {
        super("message_too_big", message, closeCode, messageId, 0);
    }
}
