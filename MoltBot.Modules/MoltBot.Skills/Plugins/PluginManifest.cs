using System.Text.Json;
using System.Text.RegularExpressions;
using MoltBot.Contracts.Skills;

namespace MoltBot.Skills.Plugins;

/// <summary>
/// plugins/&lt;folder&gt;/plugin.json: what the host needs before running any of the plugin's code.
/// <code>
/// { "id": "dice", "version": "1.0.0", "assembly": "DiceRoller.dll", "entryType": "DiceRoller.DiceRollerSkill",
///   "contractVersion": 1, "permissions": ["storage"], "configSchema": { "type": "object", "properties": { ... } } }
/// </code>
/// </summary>
internal sealed partial record PluginManifest(
    string Id, string Version, string Assembly, string EntryType, int ContractVersion, IReadOnlyList<string> Permissions, JsonElement? ConfigSchema)
{
    /// <summary>The skill contract this host implements; a plugin built for another major version is refused.</summary>
    public const int HostContractVersion = 1;

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}$")]
    private static partial Regex IdPattern();

    [GeneratedRegex(@"^\d+(\.\d+){0,3}([-+][0-9A-Za-z.-]+)?$")]
    private static partial Regex VersionPattern();

    /// <summary>Parses and checks plugin.json; throws <see cref="PluginLoadException"/> with the exact problem.</summary>
    public static PluginManifest Parse(string json)
    {
        JsonElement root;
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            root = doc.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new PluginLoadException($"plugin.json is not valid JSON (line {ex.LineNumber + 1}): {ex.Message}");
        }
        if (root.ValueKind != JsonValueKind.Object) throw new PluginLoadException("plugin.json must hold a JSON object.");

        string id = RequiredString(root, "id");
        if (!IdPattern().IsMatch(id)) throw new PluginLoadException($"plugin.json: id '{id}' must be 1-64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit.");
        string version = RequiredString(root, "version");
        if (!VersionPattern().IsMatch(version)) throw new PluginLoadException($"plugin.json: version '{version}' is not a version number such as \"1.2.0\".");
        string assembly = RequiredString(root, "assembly");
        if (assembly.Contains('/') || assembly.Contains('\\') || assembly.Contains("..", StringComparison.Ordinal) || !assembly.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
            throw new PluginLoadException($"plugin.json: assembly '{assembly}' must be a .dll file name inside the plugin folder.");
        string entryType = RequiredString(root, "entryType");

        int contract = HostContractVersion;
        if (root.TryGetProperty("contractVersion", out var cv))
        {
            if (cv.ValueKind != JsonValueKind.Number || !cv.TryGetInt32(out contract))
                throw new PluginLoadException("plugin.json: contractVersion must be a whole number.");
        }
        if (contract != HostContractVersion)
            throw new PluginLoadException($"plugin.json: incompatible plugin: built for skill contract version {contract}, this MoltBot implements version {HostContractVersion}.");

        var permissions = new List<string>();
        if (root.TryGetProperty("permissions", out var perms))
        {
            if (perms.ValueKind != JsonValueKind.Array) throw new PluginLoadException("plugin.json: permissions must be an array of strings.");
            foreach (var p in perms.EnumerateArray())
            {
                string? name = p.ValueKind == JsonValueKind.String ? p.GetString() : null;
                if (name is null || !SkillPermissions.All.Contains(name))
                    throw new PluginLoadException($"plugin.json: unknown permission {p.GetRawText()}; allowed: {string.Join(", ", SkillPermissions.All)}.");
                permissions.Add(name);
            }
        }

        JsonElement? schema = null;
        if (root.TryGetProperty("configSchema", out var s))
        {
            if (s.ValueKind != JsonValueKind.Object) throw new PluginLoadException("plugin.json: configSchema must be a JSON object (a JSON Schema).");
            Plugins.ConfigSchema.CheckSchema(s);
            schema = s;
        }
        return new PluginManifest(id, version, assembly, entryType, contract, permissions.Distinct().ToList(), schema);
    }

    private static string RequiredString(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var v) || v.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(v.GetString()))
            throw new PluginLoadException($"plugin.json: '{name}' is missing or not a non-empty string.");
        return v.GetString()!.Trim();
    }
}

/// <summary>A plugin that cannot be loaded; the message says why, completely, for the log and the admin.</summary>
internal sealed class PluginLoadException(string message, Exception? inner = null) : Exception(message, inner);
