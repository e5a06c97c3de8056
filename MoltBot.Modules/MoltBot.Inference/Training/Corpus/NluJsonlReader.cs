using System.Text.Json;
using MoltBot.Contracts.Inference;

namespace MoltBot.Inference.Training.Corpus;

/// <summary>Lines the reader skipped (only under <see cref="MalformedLinePolicy.Skip"/>) with the reason for each.</summary>
public sealed record SkippedLine(string File, int Line, string Reason)
{
    public override string ToString() => $"{File}:{Line}: {Reason}";
}

public sealed record NluDataset(IReadOnlyList<NluExample> Examples, IReadOnlyList<SkippedLine> Skipped);

/// <summary>
/// Reads and validates NLU JSONL: {"text","lang","intent","entities":[{"type","value","start","end"}]}.
/// Syntax and span errors follow the <see cref="MalformedLinePolicy"/>; an intent or entity label outside the
/// taxonomy is always an error (a model must never be trained or scored on a label it cannot predict).
/// </summary>
public static class NluJsonlReader
{
    public static readonly IReadOnlyList<string> Languages = ["en", "zh"];

    public static NluDataset Read(string file, MalformedLinePolicy policy = MalformedLinePolicy.Fail)
    {
        if (!File.Exists(file)) throw new FileNotFoundException($"NLU data file '{file}' does not exist", file);
        var examples = new List<NluExample>();
        var skipped = new List<SkippedLine>();
        int lineNo = 0;
        foreach (var raw in File.ReadLines(file))
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(raw)) continue;
            try
            {
                examples.Add(Parse(raw, file, lineNo));
            }
            catch (MalformedLineException e)
            {
                if (policy == MalformedLinePolicy.Fail) throw new NluDataException(file, lineNo, e.Message);
                skipped.Add(new SkippedLine(file, lineNo, e.Message));
            }
        }
        if (examples.Count == 0) throw new NluDataException(file, lineNo, "no usable examples in the file");
        return new NluDataset(examples, skipped);
    }

    /// <summary>Parses one line; throws <see cref="NluDataException"/> for unknown labels.</summary>
    public static NluExample Parse(string line, string file, int lineNo)
    {
        JsonElement root;
        try
        {
            using var doc = JsonDocument.Parse(line);
            root = doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new MalformedLineException($"not valid JSON ({e.Message})");
        }
        if (root.ValueKind != JsonValueKind.Object) throw new MalformedLineException("a line must be a JSON object");
        string text = RequiredString(root, "text");
        if (text.Length == 0) throw new MalformedLineException("\"text\" is empty");
        string lang = RequiredString(root, "lang");
        if (!Languages.Contains(lang)) throw new MalformedLineException($"\"lang\" must be \"en\" or \"zh\", got \"{lang}\"");
        string intent = RequiredString(root, "intent");
        if (!Intents.All.Contains(intent))
            throw new NluDataException(file, lineNo, $"unknown intent label \"{intent}\" (allowed: {string.Join(", ", Intents.All)})");

        var entities = new List<EntitySpan>();
        if (root.TryGetProperty("entities", out var ents) && ents.ValueKind != JsonValueKind.Null)
        {
            if (ents.ValueKind != JsonValueKind.Array) throw new MalformedLineException("\"entities\" must be an array");
            int length = TextOffsets.CodePointLength(text);
            foreach (var e in ents.EnumerateArray())
            {
                if (e.ValueKind != JsonValueKind.Object) throw new MalformedLineException("each entity must be an object");
                string type = RequiredString(e, "type");
                if (!EntityTypes.All.Contains(type))
                    throw new NluDataException(file, lineNo, $"unknown entity type \"{type}\" (allowed: {string.Join(", ", EntityTypes.All)})");
                string value = RequiredString(e, "value");
                int start = RequiredInt(e, "start"), end = RequiredInt(e, "end");
                if (start < 0 || end <= start || end > length)
                    throw new MalformedLineException($"entity \"{type}\" span [{start},{end}) is outside the text (length {length})");
                string slice = TextOffsets.Slice(text, start, end);
                if (slice != value)
                    throw new MalformedLineException($"entity \"{type}\" value \"{value}\" does not match text[{start}:{end}] = \"{slice}\"");
                if (entities.Any(o => start < o.End && o.Start < end))
                    throw new MalformedLineException($"entity \"{type}\" [{start},{end}) overlaps another entity");
                entities.Add(new EntitySpan(type, value, start, end));
            }
        }
        entities.Sort((a, b) => a.Start.CompareTo(b.Start));
        return new NluExample(text, lang, intent, entities) { Source = $"{file}:{lineNo}" };
    }

    /// <summary>Writes examples in the same format (one compact object per line, UTF-8, no BOM).</summary>
    public static void Write(string file, IEnumerable<NluExample> examples)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
        using var stream = File.Create(file);
        var options = new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        foreach (var ex in examples)
        {
            using (var w = new Utf8JsonWriter(stream, options))
            {
                w.WriteStartObject();
                w.WriteString("text", ex.Text);
                w.WriteString("lang", ex.Lang);
                w.WriteString("intent", ex.Intent);
                w.WriteStartArray("entities");
                foreach (var e in ex.Entities)
                {
                    w.WriteStartObject();
                    w.WriteString("type", e.Type);
                    w.WriteString("value", e.Value);
                    w.WriteNumber("start", e.Start);
                    w.WriteNumber("end", e.End);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            stream.WriteByte((byte)'\n');
        }
    }

    private static string RequiredString(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString()!
            : throw new MalformedLineException($"missing or non-string \"{name}\"");

    private static int RequiredInt(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i)
            ? i
            : throw new MalformedLineException($"missing or non-integer \"{name}\"");

    /// <summary>A recoverable problem with one line (the policy decides); carries only the reason.</summary>
    private sealed class MalformedLineException(string reason) : Exception(reason);
}
