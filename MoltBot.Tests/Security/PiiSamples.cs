using MoltBot.Security.Pii;

namespace MoltBot.Tests.Security;

/// <summary>Generates valid personal data of every kind the detector knows (check digits computed, not guessed).</summary>
public sealed class PiiSamples(int seed)
{
    private readonly Random _random = new(seed);
    private static readonly string[] Names = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "wei", "li.na", "zhang_san"];
    private static readonly string[] Domains = ["example.com", "mail.example.org", "corp.example.net", "qq.com", "163.com", "uni.edu.cn"];

    public string Email() => $"{Names[_random.Next(Names.Length)]}{_random.Next(10, 99999)}@{Domains[_random.Next(Domains.Length)]}";

    public string ChineseMobile()
    {
        string digits = "1" + "3456789"[_random.Next(7)] + Digits(9);
        return _random.Next(3) switch
        {
            0 => digits,
            1 => $"{digits[..3]} {digits[3..7]} {digits[7..]}",
            _ => "+86 " + digits,
        };
    }

    public string InternationalPhone() => _random.Next(3) switch
    {
        0 => $"+44 20 {Digits(4)} {Digits(4)}",
        1 => $"+1 ({200 + _random.Next(700)}) {Digits(3)}-{Digits(4)}",
        _ => $"+49 30 {Digits(8)}",
    };

    public string Card()
    {
        string prefix = _random.Next(4) switch { 0 => "4", 1 => "5" + (1 + _random.Next(5)), 2 => "62", _ => "6011" };
        string body = prefix + Digits(15 - prefix.Length);
        string number = body + LuhnDigit(body);
        return _random.Next(2) == 0 ? number : string.Join(" ", Enumerable.Range(0, 4).Select(i => number.Substring(i * 4, 4)));
    }

    public string ChineseId()
    {
        string region = (110000 + _random.Next(540000)).ToString();
        var birth = new DateOnly(1950, 1, 1).AddDays(_random.Next(20_000));
        string body = region + birth.ToString("yyyyMMdd") + Digits(3);
        int[] w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
        int sum = 0;
        for (int i = 0; i < 17; i++) sum += (body[i] - '0') * w[i];
        return body + "10X98765432"[sum % 11];
    }

    public string Iban()
    {
        // GB: bank code (4 letters) + sort code (6) + account (8); check digits from mod-97.
        string bban = new string(Enumerable.Range(0, 4).Select(_ => (char)('A' + _random.Next(26))).ToArray()) + Digits(14);
        string check = (98 - Mod97(bban + "GB00")).ToString("00");
        string iban = "GB" + check + bban;
        return _random.Next(2) == 0 ? iban : string.Join(" ", Enumerable.Range(0, (iban.Length + 3) / 4).Select(i => iban.Substring(i * 4, Math.Min(4, iban.Length - i * 4))));
    }

    public string Ipv4() => $"{11 + _random.Next(200)}.{_random.Next(256)}.{_random.Next(256)}.{1 + _random.Next(254)}";

    public string Ipv6() => $"2001:db8:{_random.Next(0x10000):x}:{_random.Next(0x10000):x}::{_random.Next(1, 0x10000):x}";

    public string Secret() => _random.Next(3) switch
    {
        0 => "sk-" + Alnum(40),
        1 => "ghp_" + Alnum(36),
        _ => $"{100000000 + _random.Next(899999999)}:AA{Alnum(33)}",
    };

    /// <summary>One value of a random kind, with its type.</summary>
    public (string Type, string Value) Any() => _random.Next(9) switch
    {
        0 => ("EMAIL", Email()),
        1 => ("PHONE", ChineseMobile()),
        2 => ("PHONE", InternationalPhone()),
        3 => ("CARD", Card()),
        4 => ("CNID", ChineseId()),
        5 => ("IBAN", Iban()),
        6 => ("IP", Ipv4()),
        7 => ("IP", Ipv6()),
        _ => ("SECRET", Secret()),
    };

    public string Digits(int n) => new(Enumerable.Range(0, n).Select(_ => (char)('0' + _random.Next(10))).ToArray());

    private string Alnum(int n)
    {
        const string chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        // Always mixed case and digits, like real generated keys.
        return "aZ9" + new string(Enumerable.Range(0, n - 3).Select(_ => chars[_random.Next(chars.Length)]).ToArray());
    }

    public static char LuhnDigit(string body)
    {
        for (char c = '0'; c <= '9'; c++)
        {
            if (PiiChecksums.Luhn(body + c)) return c;
        }
        throw new InvalidOperationException("unreachable");
    }

    /// <summary>A number of the given length whose Luhn check fails (an order number that must not look like a card).</summary>
    public string NonLuhn(string prefix, int length)
    {
        string body = prefix + Digits(length - prefix.Length - 1);
        char good = LuhnDigit(body);
        return body + (char)('0' + (good - '0' + 1 + _random.Next(8)) % 10);
    }

    private static int Mod97(string s)
    {
        int r = 0;
        foreach (char c in s)
        {
            if (char.IsAsciiDigit(c)) r = (r * 10 + (c - '0')) % 97;
            else r = (r * 100 + (c - 'A' + 10)) % 97;
        }
        return r;
    }
}
