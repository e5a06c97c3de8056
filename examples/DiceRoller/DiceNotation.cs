using System.Text.RegularExpressions;

namespace DiceRoller;

/// <summary>What to roll: "2d6", "d20", "roll 3 dice", "掷两个骰子".</summary>
public sealed partial record DiceNotation(int Count, int Sides)
{
    [GeneratedRegex(@"\b(?<n>\d{0,3})d(?<s>\d{1,4})\b", RegexOptions.IgnoreCase)]
    private static partial Regex Standard();

    [GeneratedRegex(@"\b(?<n>\d{1,3}|a|one|two|three|four|five|six)\s+(?:dice|die)\b", RegexOptions.IgnoreCase)]
    private static partial Regex English();

    [GeneratedRegex(@"(?<n>\d{1,3}|[一二两三四五六七八九十])\s*[个颗枚]?\s*骰子")]
    private static partial Regex Chinese();

    public static DiceNotation Parse(string text, int defaultSides)
    {
        var m = Standard().Match(text);
        if (m.Success)
        {
            int n = m.Groups["n"].Value.Length == 0 ? 1 : int.Parse(m.Groups["n"].Value);
            return new DiceNotation(n, int.Parse(m.Groups["s"].Value));
        }
        m = English().Match(text);
        if (m.Success) return new DiceNotation(Number(m.Groups["n"].Value.ToLowerInvariant()), defaultSides);
        m = Chinese().Match(text);
        if (m.Success) return new DiceNotation(Number(m.Groups["n"].Value), defaultSides);
        return new DiceNotation(1, defaultSides);
    }

    private static int Number(string s) => s switch
    {
        "a" or "one" or "一" => 1,
        "two" or "二" or "两" => 2,
        "three" or "三" => 3,
        "four" or "四" => 4,
        "five" or "五" => 5,
        "six" or "六" => 6,
        "七" => 7,
        "八" => 8,
        "九" => 9,
        "十" => 10,
        _ => int.TryParse(s, out int n) ? n : 1,
    };
}
