package dev.moltbot.sdk;

/** The server refused the token (close code 4001, code {@code auth_failed}) or no auth came in time (4002). */
public final class AuthenticationException extends MoltBotException {
    private static final long serialVersionUID = 1L;

    AuthenticationException(String code, String message, int closeCode) {
        super(code, message, closeCode, null, 0);
    }
}
