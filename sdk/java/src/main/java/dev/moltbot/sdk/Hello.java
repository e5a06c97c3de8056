package dev.moltbot.sdk;

import java.util.Map;

/** The server's first frame: protocol version, heartbeat and limits. */
public record Hello(int protocol, long heartbeatIntervalMs, long heartbeatTimeoutMs, long maxFrameBytes, long maxTextLength,
                    Map<String, Object> raw) {
    static Hello from(Map<String, Object> f) {
        Map<String, Object> limits = Frames.obj(f, "limits");
        return new Hello((int) Frames.num(f, "protocol"), Frames.num(f, "heartbeatIntervalMs"), Frames.num(f, "heartbeatTimeoutMs"),
                limits.containsKey("maxFrameBytes") ? Frames.num(limits, "maxFrameBytes") : Long.MAX_VALUE,
                limits.containsKey("maxTextLength") ? Frames.num(limits, "maxTextLength") : Long.MAX_VALUE, f);
    }
}
