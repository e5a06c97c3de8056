package dev.moltbot.sdk;

/** The session could not be resumed: messages in flight on it fail with this (a new session was started). */
public final class ResumeFailedException extends MoltBotException {
    private static final long serialVersionUID = 1L;

    ResumeFailedException(String message) {
        super("resume_failed", message);
    }
}
