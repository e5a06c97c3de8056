namespace MoltBot.Skills.Weather;

/// <summary>Where the weather skill gets its data. The default calls an Open-Meteo-format HTTP API.</summary>
public interface IWeatherProvider
{
    /// <summary>The weather at a place, or null when no place of that name exists.</summary>
    /// <exception cref="WeatherUnavailableException">The service could not be reached or answered nonsense.</exception>
    Task<WeatherReport?> GetAsync(string place, string language, int days, CancellationToken cancellationToken);
}

public sealed record WeatherReport(string Place, string? Country, string? TimeZone, CurrentWeather Current, IReadOnlyList<DailyForecast> Days);

/// <param name="WeatherCode">WMO weather interpretation code.</param>
public sealed record CurrentWeather(double TemperatureC, int WeatherCode, double? WindKmh, double? HumidityPercent);

public sealed record DailyForecast(DateOnly Date, int WeatherCode, double MinC, double MaxC, double? PrecipitationProbability);

/// <summary>The weather service is unreachable or broken: the skill says so and never guesses a forecast.</summary>
public sealed class WeatherUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
