using Microsoft.Extensions.Options;

namespace MoltBot.Channels.Common;

/// <summary>Validates a platform's options at start; every message names the key and the allowed range.</summary>
internal sealed class ChannelOptionsValidator<T> : IValidateOptions<T> where T : ChannelOptions
{
    public ValidateOptionsResult Validate(string? name, T o)
    {
        var errors = new List<string>();
        string s = o.Section;
        Range(errors, o.MaxRetryAttempts, 3, 10, $"{s}:MaxRetryAttempts", "attempts");
        Range(errors, o.RetryBaseDelayMilliseconds, 10, 60_000, $"{s}:RetryBaseDelayMilliseconds", "ms");
        Range(errors, o.RequestTimeoutSeconds, 1, 300, $"{s}:RequestTimeoutSeconds", "s");
        Range(errors, o.CircuitBreakSeconds, 1, 600, $"{s}:CircuitBreakSeconds", "s");
        Range(errors, o.PingIntervalSeconds, 1, 3600, $"{s}:PingIntervalSeconds", "s");
        Range(errors, o.DedupCapacity, 0, 10_000_000, $"{s}:DedupCapacity", "ids");
        if (o.Enabled)
        {
            if (!Uri.TryCreate(o.BaseUrl, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
            {
                errors.Add($"{s}:BaseUrl must be an absolute http(s) URL (got '{o.BaseUrl}').");
            }
            o.ValidatePlatform(errors);
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Range(List<string> errors, int value, int min, int max, string key, string unit)
    {
        if (value < min || value > max) errors.Add($"{key} must be between {min} and {max} ({unit}); got {value}.");
    }
}
