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
        // Every inbound message passes here. The detectors walk the regexes' matches as spans (EnumerateMatches) and
        // add straight into the list: no MatchCollection, Match, iterator or closure per detector and message, and
        // a string only for a candidate whose check digits need one.
        List<PiiMatch>? accepted = null;
        FindSecrets(text, ref accepted);
        // A detector whose every match contains a character the text lacks is skipped: an address has an '@'; IBANs,
        // IDs, cards, phones and IPv4 addresses have decimal digits (\d: any Unicode digit, as char.IsDigit); an IPv6
        // address has two ':'. Most chat messages have none of them.
        var span = text.AsSpan();
        bool digits = HasDigit(span);
        if (span.Contains('@')) AddAll(text, ref accepted, PiiTypes.Email, EmailRegex());
        if (digits)
        {
            FindIbans(text, ref accepted);
            foreach (var m in ChineseIdRegex().EnumerateMatches(text))
            {
                if (PiiChecksums.ChineseResidentId(text.Substring(m.Index, m.Length))) Add(text, ref accepted, PiiTypes.ChineseId, m.Index, m.Length);
            }
            FindCards(text, ref accepted);
            FindPhones(text, ref accepted);
        }
        FindIps(text, ref accepted, digits, span.Count(':') >= 2);
        if (accepted is null) return [];
        accepted.Sort((a, b) => a.Start.CompareTo(b.Start));
        return accepted;
    }

    private static bool HasDigit(ReadOnlySpan<char> text)
    {
        foreach (char c in text)
        {
            if (char.IsDigit(c)) return true;
        }
        return false;
    }

    /// <summary>Keeps a candidate unless an earlier one (an earlier detector's, or this detector's) already claims part of its span.</summary>
    private static void Add(string text, ref List<PiiMatch>? accepted, string type, int start, int length)
    {
        int end = start + length;
        if (accepted is null) accepted = [];
        else
        {
            foreach (var m in accepted)
            {
                if (start < m.End && m.Start < end) return;
            }
        }
        accepted.Add(new PiiMatch(start, length, type, text.Substring(start, length)));
    }

    private static void AddAll(string text, ref List<PiiMatch>? accepted, string type, Regex regex)
    {
        foreach (var m in regex.EnumerateMatches(text)) Add(text, ref accepted, type, m.Index, m.Length);
    }

    private static void FindSecrets(string text, ref List<PiiMatch>? accepted)
    {
        AddAll(text, ref accepted, PiiTypes.Secret, KnownSecretRegex());
        // The one detector that needs a group: Match objects exist only for the (rare) texts that match.
        for (var m = AssignedSecretRegex().Match(text); m.Success; m = m.NextMatch())
        {
            var value = m.Groups["value"];
            if (!IsToken(value.ValueSpan)) Add(text, ref accepted, PiiTypes.Secret, value.Index, value.Length);
        }
        foreach (var m in HighEntropyRegex().EnumerateMatches(text))
        {
            if (LooksRandom(text.AsSpan(m.Index, m.Length))) Add(text, ref accepted, PiiTypes.Secret, m.Index, m.Length);
        }
    }

    /// <summary>Mixed upper, lower and digits with high character entropy: how generated keys look, unlike words or hex hashes.</summary>
    private static bool LooksRandom(ReadOnlySpan<char> s)
    {
        if (!s.ContainsAnyInRange('A', 'Z') || !s.ContainsAnyInRange('a', 'z') || !s.ContainsAnyInRange('0', '9')) return false;
        var counts = new Dictionary<char, int>();
        foreach (char c in s) counts[c] = counts.GetValueOrDefault(c) + 1;
        double entropy = 0;
        foreach (int n in counts.Values) entropy -= (double)n / s.Length * Math.Log2((double)n / s.Length);
        return entropy >= 4.0;
    }

    private static bool IsToken(ReadOnlySpan<char> s) => s.StartsWith('⟦');

    private static void FindIbans(string text, ref List<PiiMatch>? accepted)
    {
        foreach (var m in IbanRegex().EnumerateMatches(text))
        {
            string compact = text.Substring(m.Index, m.Length).Replace(" ", "", StringComparison.Ordinal);
            if (PiiChecksums.Iban(compact)) Add(text, ref accepted, PiiTypes.Iban, m.Index, m.Length);
        }
    }

    private static void FindCards(string text, ref List<PiiMatch>? accepted)
    {
        foreach (var m in CardRegex().EnumerateMatches(text))
        {
            string digits = PiiChecksums.DigitsOnly(text.Substring(m.Index, m.Length));
            if (digits.Length is >= 13 and <= 19 && PiiChecksums.PlausibleCardIssuer(digits) && PiiChecksums.Luhn(digits))
                Add(text, ref accepted, PiiTypes.Card, m.Index, m.Length);
        }
    }

    private static void FindPhones(string text, ref List<PiiMatch>? accepted)
    {
        AddAll(text, ref accepted, PiiTypes.Phone, ChineseMobileRegex());
        foreach (var m in InternationalPhoneRegex().EnumerateMatches(text))
        {
            int digits = 0;
            foreach (char c in text.AsSpan(m.Index, m.Length))
            {
                if (char.IsAsciiDigit(c)) digits++;
            }
            if (digits is >= 8 and <= 15) Add(text, ref accepted, PiiTypes.Phone, m.Index, m.Length);
        }
        AddAll(text, ref accepted, PiiTypes.Phone, NorthAmericanPhoneRegex());
    }

    private static void FindIps(string text, ref List<PiiMatch>? accepted, bool hasDigit, bool hasTwoColons)
    {
        if (hasDigit)
        {
            FindIpv4(text, ref accepted);
        }
        if (!hasTwoColons) return;
        foreach (var m in Ipv6CandidateRegex().EnumerateMatches(text))
        {
            var v = text.AsSpan(m.Index, m.Length);
            bool shaped = v.Contains("::", StringComparison.Ordinal) || v.Count(':') == 7;
            if (shaped && v.Length > 2 && IPAddress.TryParse(v, out var ip) && ip.AddressFamily == AddressFamily.InterNetworkV6)
                Add(text, ref accepted, PiiTypes.Ip, m.Index, m.Length);
        }
    }

    private static void FindIpv4(string text, ref List<PiiMatch>? accepted)
    {
        foreach (var m in Ipv4Regex().EnumerateMatches(text))
        {
            // "version 1.2.3.4" / "v1.2.3.4" is a version string, not an address.
            var before = text.AsSpan(Math.Max(0, m.Index - 9), Math.Min(9, m.Index));
            if (before.TrimEnd().EndsWith("version", StringComparison.OrdinalIgnoreCase)
                || before.TrimEnd().EndsWith("ver", StringComparison.OrdinalIgnoreCase)) continue;
            Add(text, ref accepted, PiiTypes.Ip, m.Index, m.Length);
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
