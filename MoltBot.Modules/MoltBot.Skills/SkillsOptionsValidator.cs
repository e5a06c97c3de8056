using Microsoft.Extensions.Options;

namespace MoltBot.Skills;

/// <summary>Checks what data annotations cannot: the default time zone exists, the weather URLs are absolute http(s).</summary>
internal sealed class SkillsOptionsValidator : IValidateOptions<SkillsOptions>, IValidateOptions<WeatherOptions>
{
    public ValidateOptionsResult Validate(string? name, SkillsOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.DefaultTimeZone)) return ValidateOptionsResult.Skip;
        return TimeZones.TryFind(options.DefaultTimeZone, out _)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"Skills:DefaultTimeZone '{options.DefaultTimeZone}' is not a known IANA time zone (e.g. \"UTC\", \"Europe/Berlin\", \"Asia/Shanghai\").");
    }

    public ValidateOptionsResult Validate(string? name, WeatherOptions options)
    {
        var failures = new List<string>();
        Check(options.GeocodingBaseUrl, "Skills:Weather:GeocodingBaseUrl", failures);
        Check(options.ForecastBaseUrl, "Skills:Weather:ForecastBaseUrl", failures);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Check(string value, string key, List<string> failures)
    {
        if (string.IsNullOrWhiteSpace(value)) return; // data annotations report it
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            failures.Add($"{key} '{value}' must be an absolute http(s) URL.");
    }
}
