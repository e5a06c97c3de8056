using System.ComponentModel.DataAnnotations;

namespace MoltBot.Skills;

/// <summary>Configuration section "Skills": where plugins and per-skill files live, and the default budget of a skill.</summary>
public sealed class SkillsOptions
{
    public const string Section = "Skills";

    /// <summary>Plugin folders (plugins/&lt;id&gt;/plugin.json); relative paths resolve against the content root.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Skills:PluginsDirectory must be a directory path (default \"plugins\").")]
    public string PluginsDirectory { get; set; } = "plugins";

    /// <summary>Per-skill files (config/skills/&lt;id&gt;.json); relative paths resolve against the content root.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Skills:ConfigDirectory must be a directory path (default \"config/skills\").")]
    public string ConfigDirectory { get; set; } = "config/skills";

    /// <summary>Watch the plugin and per-skill folders and reload what changed, without a restart.</summary>
    public bool HotReload { get; set; } = true;

    /// <summary>Quiet time after the last file change before reloading (a copy fires many events).</summary>
    [Range(50, 60_000, ErrorMessage = "Skills:ReloadDebounceMilliseconds must be between 50 and 60000.")]
    public int ReloadDebounceMilliseconds { get; set; } = 500;

    [Range(1, 3600, ErrorMessage = "Skills:DefaultTimeoutSeconds must be between 1 and 3600.")]
    public int DefaultTimeoutSeconds { get; set; } = 10;

    /// <summary>How many runs of one skill may be in flight at once (a hanging skill can only block its own slots).</summary>
    [Range(1, 10_000, ErrorMessage = "Skills:DefaultMaxConcurrency must be between 1 and 10000.")]
    public int DefaultMaxConcurrency { get; set; } = 16;

    /// <summary>Below this NLU confidence the intent is ignored and keywords/patterns decide.</summary>
    [Range(0.0, 1.0, ErrorMessage = "Skills:MinIntentConfidence must be between 0 and 1.")]
    public double MinIntentConfidence { get; set; } = 0.5;

    /// <summary>IANA zone used when the user's time zone is unknown (time and reminder skills).</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Skills:DefaultTimeZone must be an IANA time zone id such as \"UTC\" or \"Europe/Berlin\".")]
    public string DefaultTimeZone { get; set; } = "UTC";
}

/// <summary>Configuration section "Skills:Weather": the Open-Meteo-format HTTP API the default provider calls.</summary>
public sealed class WeatherOptions
{
    public const string Section = "Skills:Weather";

    [Required(AllowEmptyStrings = false, ErrorMessage = "Skills:Weather:GeocodingBaseUrl must be an absolute http(s) URL.")]
    public string GeocodingBaseUrl { get; set; } = "https://geocoding-api.open-meteo.com";

    [Required(AllowEmptyStrings = false, ErrorMessage = "Skills:Weather:ForecastBaseUrl must be an absolute http(s) URL.")]
    public string ForecastBaseUrl { get; set; } = "https://api.open-meteo.com";

    [Range(1, 60, ErrorMessage = "Skills:Weather:TimeoutSeconds must be between 1 and 60.")]
    public int TimeoutSeconds { get; set; } = 5;

    [Range(1, 16, ErrorMessage = "Skills:Weather:ForecastDays must be between 1 and 16.")]
    public int ForecastDays { get; set; } = 3;
}

/// <summary>Configuration section "Skills:Reminders".</summary>
public sealed class RemindersOptions
{
    public const string Section = "Skills:Reminders";

    /// <summary>Reminders that fell due while MoltBot was down fire at the next start (marked late); false: they are marked missed.</summary>
    public bool FireLateOnStart { get; set; } = true;

    [Range(1, 10_000, ErrorMessage = "Skills:Reminders:MaxPendingPerUser must be between 1 and 10000.")]
    public int MaxPendingPerUser { get; set; } = 100;

    /// <summary>Reminders further ahead than this are refused.</summary>
    [Range(1, 3650, ErrorMessage = "Skills:Reminders:MaxDaysAhead must be between 1 and 3650.")]
    public int MaxDaysAhead { get; set; } = 366;

    /// <summary>
    /// The reminder database opens after the first reply has been sent, or this many milliseconds after the host began
    /// starting, whichever comes first (a reminder request opens it at once): its first LiteDB use is off the path to
    /// the first reply. Due reminders fire right after it opens; a corrupt file still stops start-up. 0 opens it while
    /// the host starts.
    /// </summary>
    [Range(0, 600_000, ErrorMessage = "Skills:Reminders:OpenDelayMs must be between 0 (open at start) and 600000 ms.")]
    public int OpenDelayMs { get; set; } = 1000;
}

/// <summary>Configuration section "Skills:Memory".</summary>
public sealed class MemorySkillOptions
{
    public const string Section = "Skills:Memory";

    [Range(1, 20, ErrorMessage = "Skills:Memory:RecallCount must be between 1 and 20.")]
    public int RecallCount { get; set; } = 3;

    /// <summary>Recalled facts scoring below this cosine similarity are not mentioned.</summary>
    [Range(-1.0, 1.0, ErrorMessage = "Skills:Memory:MinScore must be between -1 and 1.")]
    public double MinScore { get; set; } = 0.3;
}
