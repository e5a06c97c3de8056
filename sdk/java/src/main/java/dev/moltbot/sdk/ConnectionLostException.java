package dev.moltbot.sdk;

/** The connection dropped and could not be re-established within the backoff policy, or is being re-established. */
public final class ConnectionLostException extends MoltBotException {
    private static final long serialVersionUID = 1L;

    ConnectionLostException(String message, int closeCode) {
        this("connection_lost", message, closeCode);
    }

    ConnectionLostException(String code, String message, int closeCode) {
        super(code, message, closeCode, null, 0);
    }
}
