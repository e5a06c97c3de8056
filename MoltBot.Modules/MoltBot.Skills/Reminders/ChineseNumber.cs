namespace MoltBot.Skills.Reminders;

/// <summary>Chinese numerals as used in times and durations: 两, 十五, 二十三, 一百, mixed with Arabic digits.</summary>
internal static class ChineseNumber
{
    public const string Digits = "零〇一二两三四五六七八九十百";

    public static bool TryParse(string text, out int value)
    {
        value = 0;
        if (string.IsNullOrEmpty(text)) return false;
        if (int.TryParse(text, out value)) return true;
        int total = 0, current = 0;
        bool any = false;
        foreach (char c in text)
        {
            int d = Digit(c);
            if (d >= 0)
            {
                current = d;
                any = true;
            }
            else if (c == '十')
            {
                total += (current == 0 ? 1 : current) * 10;
                current = 0;
                any = true;
            }
            else if (c == '百')
            {
                total += (current == 0 ? 1 : current) * 100;
                current = 0;
                any = true;
            }
            else
            {
                return false;
            }
        }
        value = total + current;
        return any;
    }

    private static int Digit(char c) => c switch
    {
        '零' or '〇' => 0,
        '一' => 1,
        '二' or '两' => 2,
        '三' => 3,
        '四' => 4,
        '五' => 5,
        '六' => 6,
        '七' => 7,
        '八' => 8,
        '九' => 9,
        >= '0' and <= '9' => c - '0',
        _ => -1,
    };
}
