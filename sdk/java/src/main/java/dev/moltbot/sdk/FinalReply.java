package dev.moltbot.sdk;

import java.util.Map;

/** The complete reply to a message ({@code replyTo} is the client message id; null for proactive messages). */
public record FinalReply(String replyTo, String messageId, String text, boolean failed, String lang, String source,
                         Object card, long timestampMs) {
    static FinalReply from(Map<String, Object> f) {
        return new FinalReply(Frames.str(f, "replyTo"), Frames.str(f, "messageId"), String.valueOf(f.getOrDefault("text", "")),
                Frames.bool(f, "failed"), Frames.str(f, "lang"), Frames.str(f, "source"), f.get("card"), Frames.num(f, "timestampMs"));
    }
}
