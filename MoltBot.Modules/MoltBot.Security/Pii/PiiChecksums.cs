namespace MoltBot.Security.Pii;

/// <summary>The check digits that tell real identifiers from look-alike numbers (order numbers, dates).</summary>
public static class PiiChecksums
{
    public static string DigitsOnly(string value) => new(value.Where(char.IsAsciiDigit).ToArray());

    public static bool Luhn(string digits)
    {
        int sum = 0;
        bool doubleIt = false;
        for (int i = digits.Length - 1; i >= 0; i--)
        {
            int d = digits[i] - '0';
            if (d is < 0 or > 9) return false;
            if (doubleIt)
            {
                d *= 2;
                if (d > 9) d -= 9;
            }
            sum += d;
            doubleIt = !doubleIt;
        }
        return sum % 10 == 0;
    }

    /// <summary>Issuer prefixes of the card networks (Visa, Mastercard, Amex, Discover, JCB, UnionPay, Diners).</summary>
    public static bool PlausibleCardIssuer(string digits)
    {
        if (digits.Length is < 13 or > 19) return false;
        int p2 = int.Parse(digits.AsSpan(0, 2));
        int p4 = int.Parse(digits.AsSpan(0, 4));
        return digits[0] == '4'
            || p2 is >= 51 and <= 55 || p4 is >= 2221 and <= 2720
            || p2 is 34 or 37 || p2 is 35 || p2 is 62 || p2 is 65 || p4 == 6011 || p4 is >= 6440 and <= 6499
            || p2 is 30 or 36 or 38;
    }

    private static readonly int[] CnidWeights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    private const string CnidCheck = "10X98765432";

    /// <summary>GB 11643-1999: 17 digits, ISO 7064 MOD 11-2 check character, and a real birth date.</summary>
    public static bool ChineseResidentId(string id)
    {
        if (id.Length != 18) return false;
        int sum = 0;
        for (int i = 0; i < 17; i++)
        {
            if (!char.IsAsciiDigit(id[i])) return false;
            sum += (id[i] - '0') * CnidWeights[i];
        }
        if (char.ToUpperInvariant(id[17]) != CnidCheck[sum % 11]) return false;
        if (id[0] == '0' || id[0] == '9') return false; // region codes start 1..8
        return DateOnly.TryParseExact(id.AsSpan(6, 8), "yyyyMMdd", out var birth) && birth.Year >= 1800;
    }

    /// <summary>ISO 13616: move the first four characters to the end, letters → 10..35, remainder mod 97 is 1.</summary>
    public static bool Iban(string compact)
    {
        if (compact.Length is < 15 or > 34) return false;
        int remainder = 0;
        for (int i = 0; i < compact.Length; i++)
        {
            char c = compact[(i + 4) % compact.Length];
            if (char.IsAsciiDigit(c)) remainder = (remainder * 10 + (c - '0')) % 97;
            else if (char.IsAsciiLetterUpper(c)) remainder = (remainder * 100 + (c - 'A' + 10)) % 97;
            else return false;
        }
        return remainder == 1;
    }
}
