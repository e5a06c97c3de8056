using System.Text.Json;
using System.Text.Json.Nodes;

namespace MoltBot.Skills.Plugins;

/// <summary>
/// The subset of JSON Schema a plugin's configSchema may use: an object with "properties" (each with "type" string,
/// integer, number, boolean or array, and optional "minimum", "maximum", "enum", "default"), "required" and
/// "additionalProperties": false. Enough to validate settings and fill defaults, small enough to be checked fully.
/// </summary>
internal static class ConfigSchema
{
    private static readonly string[] Types = ["string", "integer", "number", "boolean", "array"];

    /// <summary>Rejects schemas using keywords or types this host would silently ignore.</summary>
    public static void CheckSchema(JsonElement schema)
    {
        if (schema.TryGetProperty("type", out var t) && t.GetString() != "object")
            throw new PluginLoadException("plugin.json: configSchema.type must be \"object\".");
        if (!schema.TryGetProperty("properties", out var props)) return;
        if (props.ValueKind != JsonValueKind.Object) throw new PluginLoadException("plugin.json: configSchema.properties must be an object.");
        foreach (var p in props.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.Object || !p.Value.TryGetProperty("type", out var pt) || pt.ValueKind != JsonValueKind.String || !Types.Contains(pt.GetString()))
                throw new PluginLoadException($"plugin.json: configSchema property '{p.Name}' needs a \"type\" of {string.Join(", ", Types)}.");
        }
    }

    /// <summary>Applies defaults and validates; returns the effective settings or throws naming the key and the rule.</summary>
    public static JsonElement Apply(JsonElement? schema, JsonElement settings, string pluginId, string configFile)
    {
        var obj = JsonNode.Parse(settings.GetRawText()) as JsonObject ?? new JsonObject();
        if (schema is not { } s) return settings;
        var props = s.TryGetProperty("properties", out var p) ? p : default;
        var known = props.ValueKind == JsonValueKind.Object ? props.EnumerateObject().ToList() : [];

        if (s.TryGetProperty("additionalProperties", out var ap) && ap.ValueKind == JsonValueKind.False)
        {
            foreach (var (key, _) in obj)
            {
                if (!known.Any(k => k.Name == key))
                    throw Error(configFile, pluginId, key, $"is not a setting of this plugin (allowed: {string.Join(", ", known.Select(k => k.Name))})");
            }
        }

        foreach (var prop in known)
        {
            if (!obj.ContainsKey(prop.Name) && prop.Value.TryGetProperty("default", out var def))
                obj[prop.Name] = JsonNode.Parse(def.GetRawText());
        }

        if (s.TryGetProperty("required", out var req) && req.ValueKind == JsonValueKind.Array)
        {
            foreach (var r in req.EnumerateArray())
            {
                string name = r.GetString() ?? "";
                if (!obj.ContainsKey(name)) throw Error(configFile, pluginId, name, "is required");
            }
        }

        var effective = JsonDocument.Parse(obj.ToJsonString()).RootElement.Clone();
        foreach (var prop in known)
        {
            if (effective.TryGetProperty(prop.Name, out var value)) CheckValue(prop, value, pluginId, configFile);
        }
        return effective;
    }

    private static void CheckValue(JsonProperty prop, JsonElement value, string pluginId, string configFile)
    {
        string type = prop.Value.GetProperty("type").GetString()!;
        bool ok = type switch
        {
            "string" => value.ValueKind == JsonValueKind.String,
            "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _),
            "number" => value.ValueKind == JsonValueKind.Number,
            "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
            "array" => value.ValueKind == JsonValueKind.Array,
            _ => false,
        };
        if (!ok) throw Error(configFile, pluginId, prop.Name, $"must be of type {type}");

        if (value.ValueKind == JsonValueKind.Number)
        {
            double v = value.GetDouble();
            if (prop.Value.TryGetProperty("minimum", out var min) && v < min.GetDouble())
                throw Error(configFile, pluginId, prop.Name, $"must be at least {min.GetRawText()} (is {value.GetRawText()})");
            if (prop.Value.TryGetProperty("maximum", out var max) && v > max.GetDouble())
                throw Error(configFile, pluginId, prop.Name, $"must be at most {max.GetRawText()} (is {value.GetRawText()})");
        }
        if (prop.Value.TryGetProperty("enum", out var e) && e.ValueKind == JsonValueKind.Array
            && !e.EnumerateArray().Any(x => x.GetRawText() == value.GetRawText()))
            throw Error(configFile, pluginId, prop.Name, $"must be one of {e.GetRawText()}");
    }

    private static PluginLoadException Error(string configFile, string pluginId, string key, string rule) =>
        new($"setting '{key}' of plugin '{pluginId}' {rule} ({configFile}, Settings.{key}).");
}
