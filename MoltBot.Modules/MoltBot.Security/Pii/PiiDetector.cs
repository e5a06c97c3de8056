using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace MoltBot.Security.Pii;

/// <summary>
/// Finds personal data and secrets in free text. Candidates come from regular expressions; numbers are only
/// accepted when their check digits agree (Luhn for cards, MOD 11-2 for Chinese IDs, mod-97 for IBANs), which is
/// what keeps order numbers, dates and version strings out. Overlaps are resolved by priority: the first
/// detector to claim a span keeps it.
/// </summary>
public static partial class PiiDetector
{
    public static IReadOnlyList<PiiMatch> Find(string text)
    {
        if (string.IsNullOrEmpty(text)) return [];
        var accepted = new List<PiiMatch>();
        Collect(text, accepted, PiiTypes.Secret, FindSecrets);
        Collect(text, accepted, PiiTypes.Email, t => Simple(EmailRegex(), t));
        Collect(text, accepted, PiiTypes.Iban, FindIbans);
        Collect(text, accepted, PiiTypes.ChineseId, t => Simple(ChineseIdRegex(), t, PiiChecksums.ChineseResidentId));
        Collect(text, accepted, PiiTypes.Card, FindCards);
        Collect(text, accepted, PiiTypes.Phone, FindPhones);
        Collect(text, accepted, PiiTypes.Ip, FindIps);
        accepted.Sort((a, b) => a.Start.CompareTo(b.Start));
        return accepted;
    }

    private static void Collect(string text, List<PiiMatch> accepted, string type, Func<string, IEnumerable<(int Start, int Length)>> finder)
    {
        foreach (var (start, length) in finder(text))
        {
            int end = start + length;
            if (accepted.Any(m => start < m.End && m.Start < end)) continue;
            accepted.Add(new PiiMatch(start, length, type, text.Substring(start, length)));
        }
    }

    private static IEnumerable<(int, int)> Simple(Regex regex, string text, Func<string, bool>? check = null)
    {
        foreach (Match m in regex.Matches(text))
        {
            if (check is null || check(m.Value)) yield return (m.Index, m.Length);
        }
    }

    private static IEnumerable<(int, int)> FindSecrets(string text)
    {
        foreach (Match m in KnownSecretRegex().Matches(text)) yield return (m.Index, m.Length);
        foreach (Match m in AssignedSecretRegex().Matches(text))
        {
            var value = m.Groups["value"];
            if (!IsToken(value.Value)) yield return (value.Index, value.Length);
        }
        foreach (Match m in HighEntropyRegex().Matches(text))
        {
            if (LooksRandom(m.Value)) yield return (m.Index, m.Length);
        }
    }

    /// <summary>Mixed upper, lower and digits with high character entropy: how generated keys look, unlike words or hex hashes.</summary>
    private static bool LooksRandom(string s)
    {
        if (!s.Any(char.IsAsciiLetterUpper) || !s.Any(char.IsAsciiLetterLower) || !s.Any(char.IsAsciiDigit)) return false;
        var counts = new Dictionary<char, int>();
        foreach (char c in s) counts[c] = counts.GetValueOrDefault(c) + 1;
        double entropy = counts.Values.Sum(n => -(double)n / s.Length * Math.Log2((double)n / s.Length));
        return entropy >= 4.0;
    }

    private static bool IsToken(string s) => s.StartsWith('⟦');

    private static IEnumerable<(int, int)> FindIbans(string text)
    {
        foreach (Match m in IbanRegex().Matches(text))
        {
            string compact = m.Value.Replace(" ", "", StringComparison.Ordinal);
            if (PiiChecksums.Iban(compact)) yield return (m.Index, m.Length);
        }
    }

    private static IEnumerable<(int, int)> FindCards(string text)
    {
        foreach (Match m in CardRegex().Matches(text))
        {
            string digits = PiiChecksums.DigitsOnly(m.Value);
            if (digits.Length is >= 13 and <= 19 && PiiChecksums.PlausibleCardIssuer(digits) && PiiChecksums.Luhn(digits))
                yield return (m.Index, m.Length);
        }
    }

    private static IEnumerable<(int, int)> FindPhones(string text)
    {
        foreach (Match m in ChineseMobileRegex().Matches(text)) yield return (m.Index, m.Length);
        foreach (Match m in InternationalPhoneRegex().Matches(text))
        {
            int digits = m.Value.Count(char.IsAsciiDigit);
            if (digits is >= 8 and <= 15) yield return (m.Index, m.Length);
        }
        foreach (Match m in NorthAmericanPhoneRegex().Matches(text)) yield return (m.Index, m.Length);
    }

    private static IEnumerable<(int, int)> FindIps(string text)
    {
        foreach (Match m in Ipv4Regex().Matches(text))
        {
            // "version 1.2.3.4" / "v1.2.3.4" is a version string, not an address.
            var before = text.AsSpan(Math.Max(0, m.Index - 9), Math.Min(9, m.Index));
            if (before.TrimEnd().EndsWith("version", StringComparison.OrdinalIgnoreCase)
                || before.TrimEnd().EndsWith("ver", StringComparison.OrdinalIgnoreCase)) continue;
            yield return (m.Index, m.Length);
        }
        foreach (Match m in Ipv6CandidateRegex().Matches(text))
        {
            string v = m.Value;
            bool shaped = v.Contains("::", StringComparison.Ordinal) || v.Count(c => c == ':') == 7;
            if (shaped && v.Length > 2 && IPAddress.TryParse(v, out var ip) && ip.AddressFamily == AddressFamily.InterNetworkV6)
                yield return (m.Index, m.Length);
        }
    }

    [GeneratedRegex(@"(?<![0-9A-Za-z_.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![0-9A-Za-z_-])")]
    private static partial Regex EmailRegex();

    // Known key shapes: OpenAI/Anthropic sk-, GitHub, Slack, AWS, Google, JWT, Telegram bot tokens, MoltBot API keys, PEM private keys.
    [GeneratedRegex(@"(?<![0-9A-Za-z_-])(?:sk-(?:[A-Za-z0-9]+-)*[A-Za-z0-9_-]{20,}|gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,}|xox[abposr]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{35}|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}|\d{8,10}:[A-Za-z0-9_-]{35}|mb_[0-9a-f]{8}_[A-Za-z0-9_-]{20,})(?![0-9A-Za-z_-])|-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----")]
    private static partial Regex KnownSecretRegex();

    [GeneratedRegex(@"(?i)(?:\b(?:api[_-]?key|apikey|secret|client[_-]?secret|access[_-]?token|auth[_-]?token|token|password|passwd|pwd)\b[""']?\s*[:=]\s*[""']?|\bbearer\s+)(?<value>[^\s""',;&]{8,})")]
    private static partial Regex AssignedSecretRegex();

    [GeneratedRegex(@"(?<![0-9A-Za-z_-])[A-Za-z0-9_-]{32,}(?![0-9A-Za-z_-])")]
    private static partial Regex HighEntropyRegex();

    [GeneratedRegex(@"(?<![0-9A-Za-z_])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![0-9A-Za-z_])")]
    private static partial Regex IbanRegex();

    [GeneratedRegex(@"(?<![0-9A-Za-z_])[1-9]\d{16}[\dXx](?![0-9A-Za-z_])")]
    private static partial Regex ChineseIdRegex();

    // 13..19 digits, optionally grouped by single spaces or dashes (4-4-4-4, 4-6-5).
    [GeneratedRegex(@"(?<![0-9A-Za-z_.-])\d{4}(?:[ -]?\d{2,6}){2,4}(?![0-9A-Za-z_-]|\.\d)")]
    private static partial Regex CardRegex();

    // Chinese mobile: 1[3-9]x xxxx xxxx, optionally +86/0086.
    [GeneratedRegex(@"(?<![0-9A-Za-z_+])(?:(?:\+|00)86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?![0-9A-Za-z_])")]
    private static partial Regex ChineseMobileRegex();

    // E.164-style with a leading +: +44 20 7946 0958, +1 (555) 123-4567, +4930123456.
    [GeneratedRegex(@"(?<![0-9A-Za-z_+])\+\d{1,3}(?:[ .-]?(?:\(\d{1,5}\)|\d{1,5})){1,6}(?![0-9A-Za-z_])")]
    private static partial Regex InternationalPhoneRegex();

    // (555) 123-4567, 555-123-4567, 555.123.4567.
    [GeneratedRegex(@"(?<![0-9A-Za-z_.-])(?:\(\d{3}\) ?|\d{3}[.-])\d{3}[.-]\d{4}(?![0-9A-Za-z_-]|\.\d)")]
    private static partial Regex NorthAmericanPhoneRegex();

    [GeneratedRegex(@"(?<![0-9A-Za-z_.])(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}(?![0-9A-Za-z_]|\.\d)")]
    private static partial Regex Ipv4Regex();

    [GeneratedRegex(@"(?<![0-9A-Za-z_:])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![0-9A-Za-z_:])")]
    private static partial Regex Ipv6CandidateRegex();
}
