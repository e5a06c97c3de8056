package dev.moltbot.sdk;

/** The server accepted a message; {@code duplicate}: it was a resend of a known client message id. */
public record Ack(String id, String messageId, boolean duplicate) {
}
