using System.Globalization;
using System.Text.RegularExpressions;

namespace MoltBot.Skills.Reminders;

/// <summary>A time found in a message: when it falls (UTC) and where it was written (to cut it out of the reminder text).</summary>
internal sealed record ParsedTime(DateTimeOffset DueUtc, IReadOnlyList<(int Start, int Length)> Spans, bool Relative);

/// <summary>
/// Reads English and Chinese times and durations: "in 10 minutes", "in an hour and a half", "2 hours from now",
/// "tomorrow at 8:30 pm", "tonight", "on Friday at 9", "on 2026-12-24 at 18:00", "10分钟后", "一个半小时后",
/// "明天早上8点", "下午三点半", "周五上午9点", "12月24日晚上7点". Times are in the user's zone; a bare clock time
/// that has passed today means tomorrow, and "at 8" without am/pm means the next 8 o'clock.
/// </summary>
internal static partial class ReminderTimeParser
{
    // Word numbers end at a word boundary ("and" is not "an" + "d"); digits may touch their unit ("2h").
    private const string EnNum = @"\d+(?:\.\d+)?|(?:an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty[- ]five|forty|fifty|sixty|ninety|half\s+an?|a\s+couple\s+of|couple\s+of|a\s+few|few)\b";
    private const string EnUnit = @"seconds?|secs?|minutes?|mins?|hours?|hrs?|hr|days?|weeks?|[smhdw]";
    private const string EnChunk = @"(?<n>" + EnNum + @")\s*(?<u>" + EnUnit + @")\b";
    private const string EnSequence = EnChunk + @"(?:\s*(?:,\s*|and\s+|&\s*)?" + EnChunk + @")*(?:\s+and\s+a\s+half)?";

    [GeneratedRegex(@"\b(?:in|after|within)\s+(?:about\s+|around\s+|roughly\s+)?" + EnSequence, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex EnRelativeIn();

    [GeneratedRegex(@"\b" + EnSequence + @"\s+(?:from\s+now|later)\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex EnRelativeLater();

    [GeneratedRegex(EnChunk, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex EnChunkRegex();

    private const string ZhNum = @"\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百]+|半";
    private const string ZhUnit = @"秒钟?|分钟|分|小时|个?钟头|刻钟?|天|日|周|星期|礼拜";
    private const string ZhChunk = @"(?<n>" + ZhNum + @")\s*个?\s*(?<h2>半)?\s*(?<u>" + ZhUnit + @")(?<h1>半)?";

    [GeneratedRegex(@"(?:再过|过)\s*(?:" + ZhChunk + @"\s*(?:零|又)?\s*)+(?:之后|以后|后)?|(?:" + ZhChunk + @"\s*(?:零|又)?\s*)+(?:之后|以后|后)")]
    private static partial Regex ZhRelative();

    [GeneratedRegex(ZhChunk)]
    private static partial Regex ZhChunkRegex();

    [GeneratedRegex(@"\b(?<day>today|tonight|tomorrow|tmrw|tmr|(?:the\s+)?day\s+after\s+tomorrow|(?:on\s+|next\s+|this\s+)?(?<wd>monday|tuesday|wednesday|thursday|friday|saturday|sunday))\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex EnDay();

    [GeneratedRegex(@"\b(?:on\s+)?(?:(?<y>\d{4})-(?<mo>\d{1,2})-(?<d>\d{1,2})|(?<mn>jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+(?<d>\d{1,2})(?:st|nd|rd|th)?|(?<d>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(?<mn>jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*)\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex EnDate();

    [GeneratedRegex(@"\b(?:in\s+the\s+|this\s+|at\s+)?(?<part>morning|afternoon|evening|night|noon|midday|midnight)\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex EnPart();

    [GeneratedRegex(@"\b(?:at\s+|@\s*|by\s+)?(?<h>\d{1,2})(?::(?<m>\d{2}))?\s*(?<ap>a\.?m\.?|p\.?m\.?)(?![a-z])|\b(?:at|@|by)\s+(?<h>\d{1,2})(?::(?<m>\d{2}))?(?:\s*o'?clock)?\b|\b(?<h>\d{1,2}):(?<m>\d{2})\b|\b(?<h>\d{1,2})\s*o'?clock\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex EnClock();

    [GeneratedRegex(@"(?<day>今天|今日|今晚|明天|明日|明早|明晚|大后天|后天|(?<next>下个?|这个?|本)?(?:周|星期|礼拜)(?<wd>[一二三四五六日天1-7]))")]
    private static partial Regex ZhDay();

    [GeneratedRegex(@"(?:(?<y>\d{4})年)?(?<mo>\d{1,2}|[一二三四五六七八九十]+)月(?<d>\d{1,2}|[一二三四五六七八九十]+)[日号]")]
    private static partial Regex ZhDate();

    [GeneratedRegex(@"(?<part>凌晨|清晨|早上|早晨|上午|中午|午后|下午|傍晚|晚上|夜里|半夜|今晚|明晚|明早)")]
    private static partial Regex ZhPart();

    [GeneratedRegex(@"(?<h>\d{1,2})[:：](?<m>\d{2})|(?<h>\d{1,2}|[零一二两三四五六七八九十]+)\s*[点點时](?:\s*(?<half>半)|\s*(?<q>一刻|三刻)|\s*(?<m>\d{1,2}|[零一二三四五六七八九十]+)\s*分?)?")]
    private static partial Regex ZhClock();

    private enum DayPart { None, EarlyMorning, Morning, Noon, Afternoon, Evening, Night, Midnight }

    public static ParsedTime? Parse(string text, DateTimeOffset nowUtc, TimeZoneInfo zone)
    {
        var relative = ParseRelative(text);
        if (relative is { } r) return new ParsedTime(nowUtc + r.Duration, [r.Span], true);
        return ParseAbsolute(text, nowUtc, zone);
    }

    /// <summary>A duration on its own ("10 minutes", "半小时"), e.g. the answer to "in how long?".</summary>
    public static TimeSpan? ParseDuration(string text)
    {
        var rel = ParseRelative(text);
        if (rel is not null) return rel.Value.Duration;
        TimeSpan total = TimeSpan.Zero;
        foreach (Match c in EnChunkRegex().Matches(text)) total += EnChunkValue(c);
        foreach (Match c in ZhChunkRegex().Matches(text)) total += ZhChunkValue(c);
        return total > TimeSpan.Zero ? total : null;
    }

    private static (TimeSpan Duration, (int, int) Span)? ParseRelative(string text)
    {
        foreach (var regex in new[] { EnRelativeIn(), EnRelativeLater() })
        {
            var m = regex.Match(text);
            if (!m.Success) continue;
            TimeSpan total = TimeSpan.Zero;
            foreach (Match c in EnChunkRegex().Matches(m.Value)) total += EnChunkValue(c);
            if (Regex.IsMatch(m.Value, @"\band\s+a\s+half\b", RegexOptions.IgnoreCase) && EnChunkRegex().Matches(m.Value) is { Count: > 0 } chunks)
                total += EnChunkValue(chunks[^1]) / 2;
            if (total > TimeSpan.Zero) return (total, (m.Index, m.Length));
        }
        var z = ZhRelative().Match(text);
        if (z.Success)
        {
            TimeSpan total = TimeSpan.Zero;
            foreach (Match c in ZhChunkRegex().Matches(z.Value)) total += ZhChunkValue(c);
            if (total > TimeSpan.Zero) return (total, (z.Index, z.Length));
        }
        return null;
    }

    private static TimeSpan EnChunkValue(Match c)
    {
        string n = Regex.Replace(c.Groups["n"].Value.ToLowerInvariant(), @"\s+", " ");
        double count = n switch
        {
            "a" or "an" or "one" => 1, "two" or "a couple of" or "couple of" => 2, "three" or "a few" or "few" => 3,
            "four" => 4, "five" => 5, "six" => 6, "seven" => 7, "eight" => 8, "nine" => 9, "ten" => 10, "eleven" => 11,
            "twelve" => 12, "fifteen" => 15, "twenty" => 20, "thirty" => 30, "forty" => 40, "forty five" or "forty-five" => 45,
            "fifty" => 50, "sixty" => 60, "ninety" => 90, "half a" or "half an" => 0.5,
            _ => double.TryParse(n, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : 0,
        };
        string u = c.Groups["u"].Value.ToLowerInvariant();
        return u[0] switch
        {
            's' => TimeSpan.FromSeconds(count),
            'm' => TimeSpan.FromMinutes(count),
            'h' => TimeSpan.FromHours(count),
            'd' => TimeSpan.FromDays(count),
            'w' => TimeSpan.FromDays(7 * count),
            _ => TimeSpan.Zero,
        };
    }

    private static TimeSpan ZhChunkValue(Match c)
    {
        string n = c.Groups["n"].Value;
        double count = n == "半" ? 0.5
            : double.TryParse(n, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d
            : ChineseNumber.TryParse(n, out int zh) ? zh : 0;
        if (c.Groups["h1"].Success || c.Groups["h2"].Success) count += 0.5;
        string u = c.Groups["u"].Value;
        if (u.StartsWith('秒')) return TimeSpan.FromSeconds(count);
        if (u.StartsWith('分')) return TimeSpan.FromMinutes(count);
        if (u.StartsWith('刻')) return TimeSpan.FromMinutes(15 * count);
        if (u.Contains('时') || u.Contains("钟头")) return TimeSpan.FromHours(count);
        if (u is "天" or "日") return TimeSpan.FromDays(count);
        return TimeSpan.FromDays(7 * count); // 周, 星期, 礼拜
    }

    private static ParsedTime? ParseAbsolute(string text, DateTimeOffset nowUtc, TimeZoneInfo zone)
    {
        var nowLocal = TimeZoneInfo.ConvertTime(nowUtc, zone);
        var today = DateOnly.FromDateTime(nowLocal.DateTime);
        var spans = new List<(int, int)>();
        DateOnly? date = null;
        DayPart part = DayPart.None;
        int? hour = null, minute = null;
        bool? pm = null;

        // Day: explicit dates first, then named days.
        var ed = EnDate().Match(text);
        var zd = ZhDate().Match(text);
        if (ed.Success && TryDate(ed, today, out var d1)) { date = d1; spans.Add((ed.Index, ed.Length)); }
        else if (zd.Success && TryDate(zd, today, out var d2)) { date = d2; spans.Add((zd.Index, zd.Length)); }
        else if (EnDay().Match(text) is { Success: true } en)
        {
            spans.Add((en.Index, en.Length));
            string day = en.Groups["day"].Value.ToLowerInvariant();
            if (en.Groups["wd"].Success)
                date = NextWeekday(today, Enum.Parse<DayOfWeek>(en.Groups["wd"].Value, ignoreCase: true), day.StartsWith("this", StringComparison.Ordinal));
            else if (day.Contains("after")) date = today.AddDays(2);
            else if (day.StartsWith("tom", StringComparison.Ordinal) || day.StartsWith("tm", StringComparison.Ordinal)) date = today.AddDays(1);
            else
            {
                date = today;
                if (day == "tonight") part = DayPart.Night;
            }
        }
        else if (ZhDay().Match(text) is { Success: true } zh)
        {
            spans.Add((zh.Index, zh.Length));
            string day = zh.Groups["day"].Value;
            if (zh.Groups["wd"].Success)
            {
                var wd = ZhWeekday(zh.Groups["wd"].Value);
                bool nextWeek = zh.Groups["next"].Value.StartsWith('下');
                var d = NextWeekday(today, wd, thisWeek: !nextWeek);
                if (nextWeek && d.DayNumber - today.DayNumber < 7 && ThisWeekIndex(wd) > ThisWeekIndex(today.DayOfWeek)) d = d.AddDays(7);
                date = d;
            }
            else
            {
                date = day switch
                {
                    "明天" or "明日" or "明早" or "明晚" => today.AddDays(1),
                    "后天" => today.AddDays(2),
                    "大后天" => today.AddDays(3),
                    _ => today,
                };
                if (day is "今晚" or "明晚") part = DayPart.Night;
                if (day == "明早") part = DayPart.Morning;
            }
        }

        if (EnPart().Match(text) is { Success: true } ep)
        {
            spans.Add((ep.Index, ep.Length));
            part = ep.Groups["part"].Value.ToLowerInvariant() switch
            {
                "morning" => DayPart.Morning,
                "afternoon" => DayPart.Afternoon,
                "evening" => DayPart.Evening,
                "night" => DayPart.Night,
                "midnight" => DayPart.Midnight,
                _ => DayPart.Noon,
            };
        }
        else if (ZhPart().Match(text) is { Success: true } zp)
        {
            spans.Add((zp.Index, zp.Length));
            part = zp.Groups["part"].Value switch
            {
                "凌晨" or "半夜" => DayPart.EarlyMorning,
                "清晨" or "早上" or "早晨" or "上午" or "明早" => DayPart.Morning,
                "中午" => DayPart.Noon,
                "午后" or "下午" => DayPart.Afternoon,
                "傍晚" => DayPart.Evening,
                _ => DayPart.Night,
            };
        }

        if (EnClock().Match(text) is { Success: true } ec && int.TryParse(ec.Groups["h"].Value, out int eh))
        {
            spans.Add((ec.Index, ec.Length));
            hour = eh;
            minute = ec.Groups["m"].Success ? int.Parse(ec.Groups["m"].Value, CultureInfo.InvariantCulture) : 0;
            if (ec.Groups["ap"].Success) pm = ec.Groups["ap"].Value.StartsWith('p') || ec.Groups["ap"].Value.StartsWith('P');
        }
        else if (ZhClock().Match(text) is { Success: true } zc && ChineseNumber.TryParse(zc.Groups["h"].Value, out int zhh))
        {
            spans.Add((zc.Index, zc.Length));
            hour = zhh;
            minute = zc.Groups["half"].Success ? 30
                : zc.Groups["q"].Success ? (zc.Groups["q"].Value == "一刻" ? 15 : 45)
                : zc.Groups["m"].Success && ChineseNumber.TryParse(zc.Groups["m"].Value, out int zm) ? zm : 0;
        }

        if (date is null && part == DayPart.None && hour is null) return null;
        if (hour is > 23 || minute is > 59) return null;

        int h, m = minute ?? 0;
        bool ambiguous = false;
        if (hour is null)
        {
            h = part switch
            {
                DayPart.EarlyMorning => 6,
                DayPart.Noon => 12,
                DayPart.Afternoon => 15,
                DayPart.Evening => 19,
                DayPart.Night => 21,
                DayPart.Midnight => 0,
                _ => 9, // "tomorrow", "morning": 9 am
            };
            if (part == DayPart.Midnight) date = (date ?? today).AddDays(1);
        }
        else if (pm is { } isPm)
        {
            if (hour is 0 or > 12) return null;
            h = hour.Value % 12 + (isPm ? 12 : 0);
        }
        else
        {
            h = hour.Value;
            switch (part)
            {
                case DayPart.Afternoon or DayPart.Evening or DayPart.Night when h < 12:
                    h += 12;
                    break;
                case DayPart.Noon when h < 6:
                    h += 12;
                    break;
                case DayPart.EarlyMorning or DayPart.Morning when h == 12:
                    h = 0;
                    break;
                case DayPart.None when h is >= 1 and <= 12:
                    ambiguous = true;
                    break;
            }
        }

        bool dayExplicit = date is not null;
        var baseDate = date ?? today;
        DateTimeOffset due;
        if (ambiguous)
        {
            if (dayExplicit)
            {
                // "tomorrow at 3" is an afternoon; "tomorrow at 8" a morning.
                if (h <= 6) h += 12;
                due = ToUtc(baseDate, h % 24, m, zone);
            }
            else
            {
                // "at 8": the next 8 o'clock, morning or evening.
                int morning = h % 12;
                var first = ToUtc(baseDate, morning, m, zone);
                var second = ToUtc(baseDate, morning + 12, m, zone);
                due = first > nowUtc ? first : second > nowUtc ? second : ToUtc(baseDate.AddDays(1), morning, m, zone);
            }
        }
        else
        {
            due = ToUtc(baseDate, h, m, zone);
            if (!dayExplicit && due <= nowUtc) due = ToUtc(baseDate.AddDays(1), h, m, zone);
        }
        return new ParsedTime(due, spans, false);
    }

    private static DateTimeOffset ToUtc(DateOnly date, int hour, int minute, TimeZoneInfo zone)
    {
        var local = date.ToDateTime(new TimeOnly(hour, minute), DateTimeKind.Unspecified);
        // A local time skipped by a DST change moves forward by the gap.
        if (zone.IsInvalidTime(local)) local = local.AddHours(1);
        return new DateTimeOffset(local, zone.GetUtcOffset(local)).ToUniversalTime();
    }

    private static bool TryDate(Match m, DateOnly today, out DateOnly date)
    {
        date = default;
        int month;
        if (m.Groups["mn"].Success)
        {
            month = Array.IndexOf(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], m.Groups["mn"].Value.ToLowerInvariant()[..3]) + 1;
        }
        else if (!ChineseNumber.TryParse(m.Groups["mo"].Value, out month)) return false;
        if (!ChineseNumber.TryParse(m.Groups["d"].Value, out int day)) return false;
        int year = m.Groups["y"].Success ? int.Parse(m.Groups["y"].Value, CultureInfo.InvariantCulture) : today.Year;
        if (month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(Math.Clamp(year, 1, 9999), month)) return false;
        date = new DateOnly(year, month, day);
        if (!m.Groups["y"].Success && date < today) date = date.AddYears(1);
        return true;
    }

    private static DateOnly NextWeekday(DateOnly today, DayOfWeek target, bool thisWeek)
    {
        int ahead = ((int)target - (int)today.DayOfWeek + 7) % 7;
        if (ahead == 0 && !thisWeek) ahead = 7;
        return today.AddDays(ahead);
    }

    private static int ThisWeekIndex(DayOfWeek d) => d == DayOfWeek.Sunday ? 7 : (int)d;

    private static DayOfWeek ZhWeekday(string s) => s switch
    {
        "一" or "1" => DayOfWeek.Monday,
        "二" or "2" => DayOfWeek.Tuesday,
        "三" or "3" => DayOfWeek.Wednesday,
        "四" or "4" => DayOfWeek.Thursday,
        "五" or "5" => DayOfWeek.Friday,
        "六" or "6" => DayOfWeek.Saturday,
        _ => DayOfWeek.Sunday,
    };
}
