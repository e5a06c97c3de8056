using System.Globalization;
using System.Text.RegularExpressions;
using MoltBot.Contracts.Inference;
using MoltBot.Contracts.Skills;

namespace MoltBot.Skills.BuiltIn;

/// <summary>Current time and date (the user's zone, a city or an IANA zone) and time differences between places.</summary>
internal sealed partial class TimeSkill(TimeProvider clock, SkillsOptions options) : ISkill
{
    public const string Id = "time";

    public SkillManifest Manifest { get; } = new()
    {
        Id = Id,
        Description = "Time and date: \"what time is it in Tokyo?\", \"what's the date today?\", \"time difference between London and New York\".",
        Descriptions = new Dictionary<string, string>
        {
            ["en"] = "Time and date: \"what time is it in Tokyo?\", \"what's the date today?\", \"time difference between London and New York\".",
            ["zh"] = "时间和日期：“东京现在几点？”、“今天几号？”、“北京和纽约差几个小时？”",
        },
        Triggers = new SkillTriggers
        {
            Intents = [Intents.TimeQuery],
            Keywords = ["what time", "the time", "time is it", "time in", "current time", "local time", "what's the date", "what date", "what day",
                "today's date", "time difference", "time zone", "timezone", "几点", "时间", "几号", "日期", "星期几", "礼拜几", "时差", "时区", "差几个小时", "差几小时"],
        },
    };

    [GeneratedRegex(@"\b[A-Z][A-Za-z_]+/[A-Za-z_]+(?:/[A-Za-z_]+)?\b|\b(?:UTC|GMT)(?:[+-]\d{1,2})?\b")]
    private static partial Regex ZoneId();

    [GeneratedRegex(@"\b(?:difference|ahead|behind|offset)\b|时差|差几|差多少|快几|慢几", RegexOptions.IgnoreCase)]
    private static partial Regex DifferenceWords();

    [GeneratedRegex(@"\b(?:date|day)\b|几号|日期|星期几|礼拜几|哪天", RegexOptions.IgnoreCase)]
    private static partial Regex DateWords();

    [GeneratedRegex(@"\b(?:time)\b|几点|时间", RegexOptions.IgnoreCase)]
    private static partial Regex TimeWords();

    public Task<SkillResult> ExecuteAsync(SkillContext context, CancellationToken cancellationToken)
    {
        string text = context.Envelope.Text;
        bool zh = context.Language == "zh";
        var places = Places(text, context);
        var userZone = TimeZones.ForUser(context.TimeZone, options.DefaultTimeZone);
        var now = clock.GetUtcNow();

        if (DifferenceWords().IsMatch(text))
        {
            if (places.Count == 0) return Task.FromResult(SkillResult.Ask(EntityTypes.Location, zh ? "要比较哪两个城市的时间？" : "Which two places should I compare?"));
            var (aName, aZone) = places[0];
            var (bName, bZone) = places.Count > 1 ? places[1] : (zh ? "你那里" : "your time zone", userZone);
            return Task.FromResult(SkillResult.Say(Difference(now, aName, aZone, bName, bZone, zh)));
        }

        var (name, zone) = places.Count > 0 ? places[0] : ((string?)null, userZone);
        var local = TimeZoneInfo.ConvertTime(now, zone);
        bool wantsDate = DateWords().IsMatch(text) && !TimeWords().IsMatch(text);
        var culture = CultureInfo.GetCultureInfo(zh ? "zh-CN" : "en-GB");
        string reply;
        if (zh)
        {
            string date = local.ToString("yyyy年M月d日 dddd", culture);
            reply = wantsDate
                ? $"{(name is null ? "今天" : name + "今天")}是{date}。"
                : $"{(name is null ? "现在" : name + "现在")}是{date} {local:HH:mm}（{zone.Id}）。";
        }
        else
        {
            string date = local.ToString("dddd, d MMMM yyyy", CultureInfo.InvariantCulture);
            string where = name is null ? "" : $" in {name}";
            reply = wantsDate
                ? $"Today{where} is {date}."
                : $"It's {local.ToString("h:mm tt", CultureInfo.InvariantCulture)} ({local:HH:mm}) on {date}{where} ({zone.Id}).";
        }
        return Task.FromResult(new SkillResult
        {
            Text = reply,
            CardJson = $$"""{"type":"time","timeZone":"{{zone.Id}}","local":"{{local:yyyy-MM-ddTHH:mm:sszzz}}"}""",
        });
    }

    /// <summary>Places named in the text (cities, IANA ids, UTC/GMT) in order, or the location slot.</summary>
    private static List<(string Name, TimeZoneInfo Zone)> Places(string text, SkillContext context)
    {
        string lang = context.Language == "zh" ? "zh" : "en";
        var found = new List<(int At, string Name, TimeZoneInfo Zone)>();
        foreach (var city in CityTable.FindAll(text))
        {
            if (TimeZones.TryFind(city.TimeZone, out var z))
            {
                int at = new[] { text.IndexOf(city.English, StringComparison.OrdinalIgnoreCase), text.IndexOf(city.Chinese, StringComparison.Ordinal) }
                    .Concat(city.Aliases.Select(a => text.IndexOf(a, StringComparison.OrdinalIgnoreCase))).Where(i => i >= 0).DefaultIfEmpty(int.MaxValue).Min();
                found.Add((at, CityTable.DisplayName(city, lang), z));
            }
        }
        foreach (Match m in ZoneId().Matches(text))
        {
            if (TimeZones.TryFind(m.Value, out var z)) found.Add((m.Index, m.Value, z));
        }
        var places = found.OrderBy(f => f.At).Select(f => (f.Name, f.Zone)).ToList();
        if (places.Count == 0 && context.Slots.TryGetValue(EntityTypes.Location, out var slot) && !string.IsNullOrWhiteSpace(slot))
        {
            if (CityTable.Find(slot) is { } c && TimeZones.TryFind(c.TimeZone, out var cz)) places.Add((CityTable.DisplayName(c, lang), cz));
            else if (TimeZones.TryFind(slot, out var sz)) places.Add((slot.Trim(), sz));
        }
        return places;
    }

    private static string Difference(DateTimeOffset now, string aName, TimeZoneInfo a, string bName, TimeZoneInfo b, bool zh)
    {
        var aOffset = a.GetUtcOffset(now);
        var bOffset = b.GetUtcOffset(now);
        double hours = (aOffset - bOffset).TotalHours;
        string aLocal = TimeZoneInfo.ConvertTime(now, a).ToString("HH:mm", CultureInfo.InvariantCulture);
        string bLocal = TimeZoneInfo.ConvertTime(now, b).ToString("HH:mm", CultureInfo.InvariantCulture);
        string amount = Math.Abs(hours).ToString("0.##", CultureInfo.InvariantCulture);
        if (zh)
        {
            if (hours == 0) return $"{aName}和{bName}现在时间相同（都是 {aLocal}）。";
            return $"{aName}比{bName}{(hours > 0 ? "快" : "慢")}{amount}小时（{aName} {aLocal}，{bName} {bLocal}）。";
        }
        if (hours == 0) return $"{aName} and {bName} have the same time right now ({aLocal}).";
        string unit = Math.Abs(hours) == 1 ? "hour" : "hours";
        return $"{aName} is {amount} {unit} {(hours > 0 ? "ahead of" : "behind")} {bName} ({aName} {aLocal}, {bName} {bLocal}).";
    }
}
