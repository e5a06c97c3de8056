namespace MoltBot.Skills.Weather;

/// <summary>WMO weather interpretation codes (as used by Open-Meteo) in English and Chinese.</summary>
internal static class WeatherCodes
{
    public static string Describe(int code, bool zh) => code switch
    {
        0 => zh ? "晴" : "clear sky",
        1 => zh ? "晴间多云" : "mainly clear",
        2 => zh ? "多云" : "partly cloudy",
        3 => zh ? "阴" : "overcast",
        45 or 48 => zh ? "雾" : "fog",
        51 or 53 or 55 => zh ? "毛毛雨" : "drizzle",
        56 or 57 => zh ? "冻毛毛雨" : "freezing drizzle",
        61 => zh ? "小雨" : "light rain",
        63 => zh ? "中雨" : "rain",
        65 => zh ? "大雨" : "heavy rain",
        66 or 67 => zh ? "冻雨" : "freezing rain",
        71 => zh ? "小雪" : "light snow",
        73 => zh ? "中雪" : "snow",
        75 => zh ? "大雪" : "heavy snow",
        77 => zh ? "雪粒" : "snow grains",
        80 or 81 => zh ? "阵雨" : "rain showers",
        82 => zh ? "强阵雨" : "violent rain showers",
        85 or 86 => zh ? "阵雪" : "snow showers",
        95 => zh ? "雷阵雨" : "thunderstorm",
        96 or 99 => zh ? "雷阵雨伴有冰雹" : "thunderstorm with hail",
        _ => zh ? $"天气代码 {code}" : $"weather code {code}",
    };
}
