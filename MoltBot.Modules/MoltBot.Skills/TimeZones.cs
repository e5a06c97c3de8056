namespace MoltBot.Skills;

/// <summary>Finding IANA time zones by id, city name (English or Chinese) or common abbreviation.</summary>
internal static class TimeZones
{
    public static bool TryFind(string id, out TimeZoneInfo zone)
    {
        zone = TimeZoneInfo.Utc;
        if (string.IsNullOrWhiteSpace(id)) return false;
        string trimmed = id.Trim();
        if (Abbreviations.TryGetValue(trimmed, out var mapped)) trimmed = mapped;
        try
        {
            zone = TimeZoneInfo.FindSystemTimeZoneById(trimmed);
            return true;
        }
        catch (TimeZoneNotFoundException)
        {
            return false;
        }
        catch (InvalidTimeZoneException)
        {
            return false;
        }
    }

    /// <summary>The zone for a user: their own if known and valid, else the configured default.</summary>
    public static TimeZoneInfo ForUser(string? userZone, string defaultZone) =>
        userZone is not null && TryFind(userZone, out var z) ? z : TryFind(defaultZone, out var d) ? d : TimeZoneInfo.Utc;

    private static readonly Dictionary<string, string> Abbreviations = new(StringComparer.OrdinalIgnoreCase)
    {
        ["GMT"] = "Etc/GMT",
        ["CET"] = "Europe/Paris",
        ["CEST"] = "Europe/Paris",
        ["EST"] = "America/New_York",
        ["EDT"] = "America/New_York",
        ["CST"] = "America/Chicago",
        ["PST"] = "America/Los_Angeles",
        ["PDT"] = "America/Los_Angeles",
        ["JST"] = "Asia/Tokyo",
        ["IST"] = "Asia/Kolkata",
        ["BST"] = "Europe/London",
        ["AEST"] = "Australia/Sydney",
        ["北京时间"] = "Asia/Shanghai",
        ["东京时间"] = "Asia/Tokyo",
    };
}
