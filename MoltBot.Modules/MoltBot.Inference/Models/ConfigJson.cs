using System.Text.Json;
using System.Text.Json.Nodes;

namespace MoltBot.Inference.Models;

/// <summary>Typed reads from a Hugging Face config.json, with errors that name the file and the key.</summary>
internal sealed class ConfigJson(JsonObject root, string file)
{
    public JsonObject Root { get; } = root;
    public string File { get; } = file;

    public static ConfigJson Load(string file)
    {
        if (!System.IO.File.Exists(file)) throw new ModelFormatException(file, null, "config.json is missing");
        try
        {
            return JsonNode.Parse(System.IO.File.ReadAllText(file)) is JsonObject o
                ? new ConfigJson(o, file)
                : throw new ModelFormatException(file, null, "config.json is not a JSON object");
        }
        catch (JsonException ex)
        {
            throw new ModelFormatException(file, null, $"config.json is not valid JSON ({ex.Message})");
        }
    }

    public bool Has(string key) => Root[key] is not null;

    public int Int(string key, int? fallback = null)
    {
        if (Root[key] is JsonValue v && v.TryGetValue(out long l) && l is >= 0 and <= int.MaxValue) return (int)l;
        if (Root[key] is JsonValue d && d.TryGetValue(out double x) && x == Math.Floor(x) && x is >= 0 and <= int.MaxValue) return (int)x;
        if (Root[key] is null && fallback is { } f) return f;
        throw new ModelFormatException(File, null, $"config key '{key}' must be a non-negative integer");
    }

    public double Double(string key, double fallback)
    {
        if (Root[key] is null) return fallback;
        if (Root[key] is JsonValue v && v.TryGetValue(out double d)) return d;
        throw new ModelFormatException(File, null, $"config key '{key}' must be a number");
    }

    public bool Bool(string key, bool fallback)
    {
        if (Root[key] is null) return fallback;
        if (Root[key] is JsonValue v && v.TryGetValue(out bool b)) return b;
        throw new ModelFormatException(File, null, $"config key '{key}' must be true or false");
    }

    public string? String(string key) => Root[key] is JsonValue v && v.TryGetValue(out string? s) ? s : null;

    public IReadOnlyList<string> StringList(string key)
    {
        if (Root[key] is not JsonArray a) throw new ModelFormatException(File, null, $"config key '{key}' must be a list of strings");
        return a.Select(n => n is JsonValue v && v.TryGetValue(out string? s) ? s
            : throw new ModelFormatException(File, null, $"config key '{key}' must be a list of strings")).ToList();
    }
}
