package dev.moltbot.sdk;

/** The server's hello announces a protocol version this SDK does not speak (code {@code protocol_mismatch}). */
public final class ProtocolVersionException extends MoltBotException {
    private static final long serialVersionUID = 1L;

    ProtocolVersionException(int server, int client) {
        super("protocol_mismatch", "server speaks protocol version " + server + ", this SDK speaks " + client
                + "; use a matching SDK release");
    }
}
