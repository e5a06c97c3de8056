using System.Text.Json;
using MoltBot.Contracts.Configuration;

namespace MoltBot.Skills;

/// <summary>
/// One skill's file config/skills/&lt;id&gt;.json: its budget and its settings. Any key left out keeps the default
/// from the "Skills" section.
/// </summary>
internal sealed record SkillConfig(bool Enabled, int? TimeoutSeconds, int? MaxConcurrency, JsonElement Settings, string? SourceFile)
{
    public static readonly JsonElement EmptySettings = JsonDocument.Parse("{}").RootElement.Clone();

    public static SkillConfig Default { get; } = new(true, null, null, EmptySettings, null);

    /// <summary>A stable text of the file's content, so a reload can tell whether it changed.</summary>
    public string Fingerprint => SourceFile is null ? "" : $"{Enabled}|{TimeoutSeconds}|{MaxConcurrency}|{Settings.GetRawText()}";
}

/// <summary>Reads and validates config/skills/*.json (the host only merges top-level config/*.json into configuration).</summary>
internal sealed class SkillConfigStore(string directory)
{
    public string Directory { get; } = directory;

    /// <summary>The config of one skill; throws <see cref="StartupException"/> with the file and the key for a bad file.</summary>
    public SkillConfig Read(string skillId)
    {
        string file = Path.Combine(Directory, skillId + ".json");
        if (!File.Exists(file)) return SkillConfig.Default;
        string text;
        try
        {
            text = File.ReadAllText(file);
        }
        catch (IOException ex)
        {
            throw new StartupException($"{file}: cannot read: {ex.Message}", ex);
        }
        return Parse(file, text);
    }

    /// <summary>Checks every file in the folder (at start: a bad file stops start-up with one line naming it).</summary>
    public IReadOnlyList<string> ValidateAll()
    {
        var errors = new List<string>();
        if (!System.IO.Directory.Exists(Directory)) return errors;
        foreach (var file in System.IO.Directory.GetFiles(Directory, "*.json").Order(StringComparer.Ordinal))
        {
            try
            {
                Parse(file, File.ReadAllText(file));
            }
            catch (StartupException ex)
            {
                errors.Add(ex.Message);
            }
        }
        return errors;
    }

    public static SkillConfig Parse(string file, string text)
    {
        JsonElement root;
        try
        {
            using var doc = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            root = doc.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new StartupException($"{file}: not valid JSON (line {ex.LineNumber + 1}): {ex.Message}", ex);
        }
        if (root.ValueKind != JsonValueKind.Object) throw new StartupException($"{file}: must hold a JSON object such as {{\"TimeoutSeconds\": 5, \"Settings\": {{}}}}.");

        bool enabled = true;
        int? timeout = null, concurrency = null;
        JsonElement settings = SkillConfig.EmptySettings;
        foreach (var p in root.EnumerateObject())
        {
            switch (p.Name.ToLowerInvariant())
            {
                case "enabled":
                    if (p.Value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                        throw new StartupException($"{file}: Enabled must be true or false.");
                    enabled = p.Value.GetBoolean();
                    break;
                case "timeoutseconds":
                    timeout = Int(file, p, 1, 3600);
                    break;
                case "maxconcurrency":
                    concurrency = Int(file, p, 1, 10_000);
                    break;
                case "settings":
                    if (p.Value.ValueKind != JsonValueKind.Object) throw new StartupException($"{file}: Settings must be a JSON object.");
                    settings = p.Value.Clone();
                    break;
                default:
                    throw new StartupException($"{file}: unknown key '{p.Name}'; allowed: Enabled, TimeoutSeconds, MaxConcurrency, Settings.");
            }
        }
        return new SkillConfig(enabled, timeout, concurrency, settings, file);
    }

    private static int Int(string file, JsonProperty p, int min, int max)
    {
        if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out int v) || v < min || v > max)
            throw new StartupException($"{file}: {p.Name} must be a whole number between {min} and {max}.");
        return v;
    }
}
