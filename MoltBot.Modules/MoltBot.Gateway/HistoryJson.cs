using System.Text.Json;

namespace MoltBot.Gateway;

/// <summary>The JSON shape of one history message, shared by the history frame and GET /v1/conversations/{id}/messages.</summary>
internal static class HistoryJson
{
    public static void Write(Utf8JsonWriter w, HistoryEntry m)
    {
        w.WriteStartObject();
        w.WriteString("id", m.Id);
        w.WriteString("direction", m.Direction);
        w.WriteString("user", m.UserId);
        w.WriteString("text", m.Text);
        w.WriteNumber("timestampMs", m.TimestampMs);
        if (m.Language is not null) w.WriteString("lang", m.Language);
        if (m.Source is not null) w.WriteString("source", m.Source);
        w.WriteEndObject();
    }
}
