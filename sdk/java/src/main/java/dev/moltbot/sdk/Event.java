package dev.moltbot.sdk;

/** What {@link MoltBotClient#events()} publishes: events not tied to a pending message. */
public sealed interface Event {
    /** The bot is composing a reply. */
    record Typing(String replyTo, boolean active) implements Event {
    }

    /** A delta of a message this client is not waiting for. */
    record Delta(String replyTo, String messageId, String text) implements Event {
    }

    /** A proactive message (e.g. a reminder). */
    record Proactive(FinalReply reply) implements Event {
    }

    /** An error frame not about a pending message. */
    record Error(MoltBotException error) implements Event {
    }
}
