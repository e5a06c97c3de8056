package dev.moltbot.sdk;

import java.time.Duration;

/**
 * Connection settings. {@code token} is required; {@code user} and {@code conversation} are optional (the server
 * picks a user id, and the conversation defaults to it).
 */
public record ClientOptions(String token, String user, String conversation, String lang, Backoff backoff,
                            Duration connectTimeout, int eventBuffer, int protocolVersion) {
    public ClientOptions {
        if (token == null || token.isEmpty()) throw new IllegalArgumentException("token is required");
        if (backoff == null) backoff = Backoff.DEFAULT;
        if (connectTimeout == null) connectTimeout = Duration.ofSeconds(10);
        if (eventBuffer <= 0) eventBuffer = 1000;
        if (protocolVersion == 0) protocolVersion = MoltBotClient.PROTOCOL_VERSION;
    }

    public static ClientOptions of(String token) {
        return new ClientOptions(token, null, null, null, null, null, 0, 0);
    }

    public ClientOptions withUser(String value) {
        return new ClientOptions(token, value, conversation, lang, backoff, connectTimeout, eventBuffer, protocolVersion);
    }

    public ClientOptions withConversation(String value) {
        return new ClientOptions(token, user, value, lang, backoff, connectTimeout, eventBuffer, protocolVersion);
    }

    public ClientOptions withLang(String value) {
        return new ClientOptions(token, user, conversation, value, backoff, connectTimeout, eventBuffer, protocolVersion);
    }

    public ClientOptions withBackoff(Backoff value) {
        return new ClientOptions(token, user, conversation, lang, value, connectTimeout, eventBuffer, protocolVersion);
    }

    public ClientOptions withConnectTimeout(Duration value) {
        return new ClientOptions(token, user, conversation, lang, backoff, value, eventBuffer, protocolVersion);
    }

    /** Tests only need another version, to check the mismatch error. */
    public ClientOptions withProtocolVersion(int value) {
        return new ClientOptions(token, user, conversation, lang, backoff, connectTimeout, eventBuffer, value);
    }
}
