package dev.moltbot.sdk;

/** The text is longer than the server's maxTextLength (error frame {@code text_too_long}). */
public final class TextTooLongException extends MoltBotException {
    private static final long serialVersionUID = 1L;

    TextTooLongException(String message, String messageId) {
        super("text_too_long", message, 0, messageId, 0);
    }
}
