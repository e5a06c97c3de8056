using System.Globalization;
using System.Text.Json;

namespace MoltBot.Skills.Weather;

/// <summary>
/// Open-Meteo's API format, no key needed: geocoding at {GeocodingBaseUrl}/v1/search?name=…, then
/// {ForecastBaseUrl}/v1/forecast?latitude=…&amp;longitude=…&amp;current=…&amp;daily=…. Both base URLs are configurable
/// (Skills:Weather), so a self-hosted Open-Meteo or a test server can stand in.
/// </summary>
public sealed class OpenMeteoWeatherProvider(HttpClient http, WeatherOptions options) : IWeatherProvider
{
    public async Task<WeatherReport?> GetAsync(string place, string language, int days, CancellationToken cancellationToken)
    {
        string geoUrl = $"{options.GeocodingBaseUrl.TrimEnd('/')}/v1/search?name={Uri.EscapeDataString(place)}&count=1&language={(language == "zh" ? "zh" : "en")}&format=json";
        using var geo = await GetJsonAsync(geoUrl, cancellationToken).ConfigureAwait(false);
        if (!geo.RootElement.TryGetProperty("results", out var results) || results.ValueKind != JsonValueKind.Array || results.GetArrayLength() == 0)
            return null;
        var first = results[0];
        double lat = Number(first, "latitude");
        double lon = Number(first, "longitude");
        string name = first.TryGetProperty("name", out var n) ? n.GetString() ?? place : place;
        string? country = first.TryGetProperty("country", out var c) ? c.GetString() : null;

        string forecastUrl = options.ForecastBaseUrl.TrimEnd('/') + "/v1/forecast?latitude=" + lat.ToString(CultureInfo.InvariantCulture)
            + "&longitude=" + lon.ToString(CultureInfo.InvariantCulture)
            + "&current=temperature_2m,relative_humidity_2m,weather_code,wind_speed_10m"
            + "&daily=weather_code,temperature_2m_max,temperature_2m_min,precipitation_probability_max&timezone=auto&forecast_days="
            + Math.Clamp(days, 1, 16).ToString(CultureInfo.InvariantCulture);
        using var fc = await GetJsonAsync(forecastUrl, cancellationToken).ConfigureAwait(false);
        try
        {
            var root = fc.RootElement;
            var cur = root.GetProperty("current");
            var current = new CurrentWeather(Number(cur, "temperature_2m"), (int)Number(cur, "weather_code"),
                OptionalNumber(cur, "wind_speed_10m"), OptionalNumber(cur, "relative_humidity_2m"));
            var daily = new List<DailyForecast>();
            if (root.TryGetProperty("daily", out var d))
            {
                var times = d.GetProperty("time");
                for (int i = 0; i < times.GetArrayLength(); i++)
                {
                    daily.Add(new DailyForecast(
                        DateOnly.ParseExact(times[i].GetString()!, "yyyy-MM-dd", CultureInfo.InvariantCulture),
                        (int)d.GetProperty("weather_code")[i].GetDouble(),
                        d.GetProperty("temperature_2m_min")[i].GetDouble(),
                        d.GetProperty("temperature_2m_max")[i].GetDouble(),
                        d.TryGetProperty("precipitation_probability_max", out var p) && p[i].ValueKind == JsonValueKind.Number ? p[i].GetDouble() : null));
                }
            }
            string? zone = root.TryGetProperty("timezone", out var tz) ? tz.GetString() : null;
            return new WeatherReport(name, country, zone, current, daily);
        }
        catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException or FormatException or IndexOutOfRangeException)
        {
            throw new WeatherUnavailableException($"forecast response from {options.ForecastBaseUrl} is not in the expected format: {ex.Message}", ex);
        }
    }

    private async Task<JsonDocument> GetJsonAsync(string url, CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(options.TimeoutSeconds));
            using var response = await http.GetAsync(url, timeout.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
                throw new WeatherUnavailableException($"{new Uri(url).GetLeftPart(UriPartial.Path)} answered HTTP {(int)response.StatusCode}");
            var stream = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
            return await JsonDocument.ParseAsync(stream, cancellationToken: timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new WeatherUnavailableException($"{new Uri(url).GetLeftPart(UriPartial.Authority)} did not answer within {options.TimeoutSeconds} s", ex);
        }
        catch (HttpRequestException ex)
        {
            throw new WeatherUnavailableException($"{new Uri(url).GetLeftPart(UriPartial.Authority)} is unreachable: {ex.Message}", ex);
        }
        catch (JsonException ex)
        {
            throw new WeatherUnavailableException($"{new Uri(url).GetLeftPart(UriPartial.Path)} did not return JSON: {ex.Message}", ex);
        }
    }

    private static double Number(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number
            ? v.GetDouble()
            : throw new WeatherUnavailableException($"weather response lacks the number '{name}'");

    private static double? OptionalNumber(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
}
