using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using MoltBot.Contracts.Inference;
using MoltBot.Contracts.Skills;

namespace MoltBot.Skills.Weather;

/// <summary>
/// Current weather and the forecast for a place (named in the message, the location slot, or the user's city).
/// When the provider cannot be reached the user is told so; a forecast is never made up.
/// </summary>
internal sealed partial class WeatherSkill(IWeatherProvider provider, WeatherOptions options, ILogger<WeatherSkill> logger) : ISkill
{
    public const string Id = "weather";

    public SkillManifest Manifest { get; } = new()
    {
        Id = Id,
        Description = "Weather: \"what's the weather in Berlin?\", \"will it rain tomorrow in Paris?\".",
        Descriptions = new Dictionary<string, string>
        {
            ["en"] = "Weather: \"what's the weather in Berlin?\", \"will it rain tomorrow in Paris?\".",
            ["zh"] = "天气：“北京今天天气怎么样？”、“明天上海会下雨吗？”",
        },
        Triggers = new SkillTriggers
        {
            Intents = [Intents.WeatherQuery],
            Keywords = ["weather", "forecast", "temperature", "rain", "raining", "snow", "snowing", "sunny", "umbrella",
                "天气", "气温", "温度", "下雨", "下雪", "预报", "带伞"],
        },
        Permissions = [SkillPermissions.Network],
    };

    [GeneratedRegex(@"\b(?:in|at|for)\s+(?<c>\p{Lu}[\p{L}'.-]*(?:\s+\p{Lu}[\p{L}'.-]*){0,3})")]
    private static partial Regex EnPlace();

    [GeneratedRegex(@"(?<c>[\u4e00-\u9fff]{2,8}?)(?:市)?(?:今天|明天|后天|现在|这几天|最近)?的?(?:天气|气温|温度|会下雨|下雨|下雪)")]
    private static partial Regex ZhPlace();

    public async Task<SkillResult> ExecuteAsync(SkillContext context, CancellationToken cancellationToken)
    {
        bool zh = context.Language == "zh";
        string text = context.Envelope.Text;
        string? place = Place(text, context);
        if (place is null)
            return SkillResult.Ask(EntityTypes.Location, zh ? "你想查哪个城市的天气？" : "Which city would you like the weather for?");

        int day = DayIndex(text);
        WeatherReport? report;
        try
        {
            report = await provider.GetAsync(place, zh ? "zh" : "en", Math.Max(options.ForecastDays, day + 1), cancellationToken).ConfigureAwait(false);
        }
        catch (WeatherUnavailableException ex)
        {
            logger.LogWarning("Weather unavailable for trace {TraceId}: {Reason}", context.TraceId, ex.Message);
            return new SkillResult
            {
                Text = zh ? "抱歉，现在无法获取天气信息：天气服务暂时连不上。请稍后再试。"
                          : "Sorry, weather information is unavailable right now: the weather service cannot be reached. Please try again later.",
                CardJson = """{"type":"weather","available":false}""",
            };
        }
        if (report is null)
            return SkillResult.Say(zh ? $"我找不到叫“{place}”的地方。" : $"I couldn't find a place called \"{place}\".");

        string name = report.Place;
        string reply;
        if (day > 0 && day < report.Days.Count)
        {
            var f = report.Days[day];
            string when = zh ? (day == 1 ? "明天" : "后天") : (day == 1 ? "tomorrow" : "the day after tomorrow");
            string rain = f.PrecipitationProbability is { } p ? (zh ? $"，降水概率{p:0}%" : $", {p:0}% chance of precipitation") : "";
            reply = zh
                ? $"{name}{when}：{WeatherCodes.Describe(f.WeatherCode, true)}，{f.MinC:0}～{f.MaxC:0}°C{rain}。"
                : $"{name} {when}: {WeatherCodes.Describe(f.WeatherCode, false)}, {f.MinC:0} to {f.MaxC:0} °C{rain}.";
        }
        else if (day > 0)
        {
            reply = zh ? $"抱歉，{name}暂时没有那一天的预报。" : $"Sorry, there is no forecast for that day in {name} yet.";
        }
        else
        {
            var c = report.Current;
            string wind = c.WindKmh is { } w ? (zh ? $"，风速{w:0}公里/小时" : $", wind {w:0} km/h") : "";
            string range = report.Days.Count > 0
                ? (zh ? $"。今天{report.Days[0].MinC:0}～{report.Days[0].MaxC:0}°C" : $". Today {report.Days[0].MinC:0} to {report.Days[0].MaxC:0} °C")
                : "";
            reply = zh
                ? $"{name}现在{WeatherCodes.Describe(c.WeatherCode, true)}，{c.TemperatureC:0}°C{wind}{range}。"
                : $"{name} now: {WeatherCodes.Describe(c.WeatherCode, false)}, {c.TemperatureC:0} °C{wind}{range}.";
        }
        return new SkillResult { Text = reply, CardJson = JsonSerializer.Serialize(new { type = "weather", available = true, report }) };
    }

    private static string? Place(string text, SkillContext context)
    {
        if (context.Slots.TryGetValue(EntityTypes.Location, out var slot) && !string.IsNullOrWhiteSpace(slot))
            return CityTable.Find(slot)?.English ?? slot.Trim();
        if (CityTable.FindAll(text) is { Count: > 0 } cities) return cities[0].English;
        if (EnPlace().Match(text) is { Success: true } en) return en.Groups["c"].Value.Trim().TrimEnd('.', '?', '!');
        if (ZhPlace().Match(text) is { Success: true } zh && !IsTimeWord(zh.Groups["c"].Value)) return zh.Groups["c"].Value;
        return string.IsNullOrWhiteSpace(context.City) ? null : context.City;
    }

    private static bool IsTimeWord(string s) => s is "今天" or "明天" or "后天" or "现在" or "最近" or "这几天" or "外面" or "这里" or "我这";

    /// <summary>0 today/now, 1 tomorrow, 2 the day after.</summary>
    private static int DayIndex(string text)
    {
        string t = text.ToLower(CultureInfo.InvariantCulture);
        if (t.Contains("day after tomorrow", StringComparison.Ordinal) || text.Contains("后天", StringComparison.Ordinal)) return 2;
        if (Regex.IsMatch(t, @"\btomorrow\b") || text.Contains("明天", StringComparison.Ordinal)) return 1;
        return 0;
    }
}
