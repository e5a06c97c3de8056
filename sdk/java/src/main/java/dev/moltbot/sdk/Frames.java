package dev.moltbot.sdk;

import java.util.Map;

/** Lenient typed access to decoded frame fields. */
final class Frames {
    private Frames() {
    }

    static String str(Map<String, Object> f, String key) {
        return f.get(key) instanceof String s ? s : null;
    }

    static long num(Map<String, Object> f, String key) {
        return f.get(key) instanceof Number n ? n.longValue() : 0;
    }

    static boolean bool(Map<String, Object> f, String key) {
        return Boolean.TRUE.equals(f.get(key));
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> obj(Map<String, Object> f, String key) {
        return f.get(key) instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    }
}
