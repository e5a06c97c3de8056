using System.Text.Json;
using MoltBot.Contracts.Inference;

namespace MoltBot.Inference.Training.Corpus;

/// <summary>Dialog JSONL: {"lang": "en"|"zh", "messages": [{"role": "user"|"assistant"|"system", "content": "..."}]}.</summary>
public static class DialogJsonl
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Write(string file, IEnumerable<Dialog> dialogs)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
        using var stream = File.Create(file);
        foreach (var d in dialogs)
        {
            using (var w = new Utf8JsonWriter(stream, WriterOptions))
            {
                w.WriteStartObject();
                w.WriteString("lang", d.Lang);
                w.WriteStartArray("messages");
                foreach (var m in d.Messages)
                {
                    w.WriteStartObject();
                    w.WriteString("role", m.Role);
                    w.WriteString("content", m.Content);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            stream.WriteByte((byte)'\n');
        }
    }

    public static (IReadOnlyList<Dialog> Dialogs, IReadOnlyList<SkippedLine> Skipped) Read(string file, MalformedLinePolicy policy = MalformedLinePolicy.Fail)
    {
        if (!File.Exists(file)) throw new FileNotFoundException($"dialog data file '{file}' does not exist", file);
        var dialogs = new List<Dialog>();
        var skipped = new List<SkippedLine>();
        int lineNo = 0;
        foreach (var raw in File.ReadLines(file))
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(raw)) continue;
            string? error = TryParse(raw, out var dialog);
            if (error is null)
            {
                dialogs.Add(dialog! with { Source = $"{file}:{lineNo}" });
                continue;
            }
            if (policy == MalformedLinePolicy.Fail) throw new NluDataException(file, lineNo, error);
            skipped.Add(new SkippedLine(file, lineNo, error));
        }
        if (dialogs.Count == 0) throw new NluDataException(file, lineNo, "no usable dialogs in the file");
        return (dialogs, skipped);
    }

    private static string? TryParse(string line, out Dialog? dialog)
    {
        dialog = null;
        try
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return "a line must be a JSON object";
            if (!root.TryGetProperty("lang", out var lang) || lang.ValueKind != JsonValueKind.String || !NluJsonlReader.Languages.Contains(lang.GetString()))
                return "\"lang\" must be \"en\" or \"zh\"";
            if (!root.TryGetProperty("messages", out var msgs) || msgs.ValueKind != JsonValueKind.Array || msgs.GetArrayLength() == 0)
                return "\"messages\" must be a non-empty array";
            var list = new List<ChatMessage>();
            foreach (var m in msgs.EnumerateArray())
            {
                if (m.ValueKind != JsonValueKind.Object
                    || !m.TryGetProperty("role", out var role) || role.GetString() is not ("user" or "assistant" or "system")
                    || !m.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.String)
                    return "each message needs \"role\" (user|assistant|system) and a string \"content\"";
                list.Add(new ChatMessage(role.GetString()!, content.GetString()!));
            }
            if (!list.Any(m => m.Role == "assistant")) return "a dialog needs at least one assistant message";
            dialog = new Dialog(lang.GetString()!, list);
            return null;
        }
        catch (JsonException e)
        {
            return $"not valid JSON ({e.Message})";
        }
    }
}
