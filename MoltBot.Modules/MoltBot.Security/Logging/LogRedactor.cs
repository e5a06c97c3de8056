using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using MoltBot.Security.Pii;

namespace MoltBot.Security.Logging;

/// <summary>
/// Masks every rendered log line before it is written: configured secret values (platform tokens, keys,
/// passwords — from configuration or MOLTBOT__ environment variables) become "***", and personal data the PII
/// detector finds becomes ⟦TYPE⟧ (loopback addresses stay readable). The host wraps its Serilog formatters with it.
/// </summary>
public sealed partial class LogRedactor
{
    public const string Mask = "***";
    private readonly string[] _secrets;

    public LogRedactor(IEnumerable<string> secrets)
    {
        // Longest first, so a secret containing another is masked whole; JSON-escaped forms too (log files are JSON).
        _secrets = secrets.Where(s => s.Length >= 6)
            .SelectMany(s => new[] { s, JsonSerializer.Serialize(s)[1..^1], s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) })
            .Distinct(StringComparer.Ordinal).OrderByDescending(s => s.Length).ToArray();
    }

    public int SecretCount => _secrets.Length;

    /// <summary>Values of keys whose last segment names a secret (…Token, …Secret, …Password, …ApiKey, …Key, …Credentials, …ConnectionString), plus Security:LogSecrets.</summary>
    public static LogRedactor FromConfiguration(IConfiguration configuration)
    {
        var values = new List<string>();
        foreach (var (key, value) in configuration.AsEnumerable())
        {
            if (string.IsNullOrEmpty(value)) continue;
            string last = key[(key.LastIndexOf(':') + 1)..];
            if (SecretKeyRegex().IsMatch(last) || key.StartsWith("Security:LogSecrets:", StringComparison.OrdinalIgnoreCase))
            {
                if (!bool.TryParse(value, out _)) values.Add(value);
            }
        }
        return new LogRedactor(values);
    }

    public string Redact(string text)
    {
        if (string.IsNullOrEmpty(text)) return text;
        foreach (var s in _secrets)
        {
            if (text.Contains(s, StringComparison.Ordinal)) text = text.Replace(s, Mask, StringComparison.Ordinal);
        }
        var matches = PiiDetector.Find(text);
        if (matches.Count == 0) return text;
        var sb = new StringBuilder(text.Length);
        int pos = 0;
        foreach (var m in matches)
        {
            if (m.Type == PiiTypes.Ip && IPAddress.TryParse(m.Value, out var ip) && (IPAddress.IsLoopback(ip) || ip.Equals(IPAddress.Any))) continue;
            sb.Append(text, pos, m.Start - pos).Append('⟦').Append(m.Type).Append('⟧');
            pos = m.End;
        }
        return sb.Append(text, pos, text.Length - pos).ToString();
    }

    [GeneratedRegex(@"(?i)(token|secret|password|passwd|apikey|api_key|key|credentials?|connectionstring)$")]
    private static partial Regex SecretKeyRegex();
}
