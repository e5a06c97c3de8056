using System.Net;
using System.Net.Sockets;
using MoltBot.Contracts.Inference;

namespace MoltBot.Tests.Skills;

public class WeatherSkillTests
{
    private static Dictionary<string, string?> Urls(string baseUrl) => new()
    {
        ["Skills:Weather:GeocodingBaseUrl"] = baseUrl,
        ["Skills:Weather:ForecastBaseUrl"] = baseUrl,
        ["Skills:Weather:TimeoutSeconds"] = "3",
    };

    [Fact]
    public async Task Current_weather_and_tomorrows_forecast_come_from_the_open_meteo_format_api()
    {
        await using var api = await FakeOpenMeteo.StartAsync();
        await using var skills = await SkillsHarness.StartAsync(settings: Urls(api.BaseUrl));
        try
        {
            var (id, now) = await skills.SayAsync("what's the weather in Berlin?");
            Assert.Equal("weather", id);
            Assert.Equal("Berlin now: overcast, 4 °C, wind 15 km/h. Today 1 to 6 °C.", now.Text);
            Assert.Contains("\"available\":true", now.CardJson);

            var (_, tomorrow) = await skills.SayAsync("will it rain tomorrow in Berlin");
            Assert.Equal("Berlin tomorrow: light rain, 3 to 8 °C, 80% chance of precipitation.", tomorrow.Text);

            var (_, zh) = await skills.SayAsync("上海明天天气怎么样", "zh");
            Assert.Equal("上海明天：雷阵雨，12～16°C，降水概率90%。", zh.Text);
            Assert.Contains(api.Requests, r => r.StartsWith("/v1/search?name=Shanghai", StringComparison.Ordinal) && r.Contains("language=zh"));
            Assert.Contains(api.Requests, r => r.StartsWith("/v1/forecast?latitude=31.22222&longitude=121.45806", StringComparison.Ordinal));
        }
        finally
        {
            SkillsHarness.DeleteRoot(skills.Root);
        }
    }

    [Fact]
    public async Task Without_a_city_it_asks_and_the_location_slot_or_the_users_city_answers()
    {
        await using var api = await FakeOpenMeteo.StartAsync();
        await using var skills = await SkillsHarness.StartAsync(settings: Urls(api.BaseUrl));
        try
        {
            var ask = await skills.Dispatcher.ExecuteAsync("weather", SkillsHarness.Context("天气怎么样", "zh"), CancellationToken.None);
            Assert.Equal(EntityTypes.Location, ask.MissingSlot);
            Assert.Equal("你想查哪个城市的天气？", ask.FollowUpQuestion);

            var filled = await skills.Dispatcher.ExecuteAsync("weather", SkillsHarness.Context("天气怎么样", "zh",
                slots: new Dictionary<string, string> { [EntityTypes.Location] = "柏林" }), CancellationToken.None);
            Assert.StartsWith("Berlin现在阴，4°C", filled.Text);

            var fromProfile = await skills.Dispatcher.ExecuteAsync("weather", SkillsHarness.Context("how's the weather?", city: "Berlin"), CancellationToken.None);
            Assert.StartsWith("Berlin now:", fromProfile.Text);

            var unknown = await skills.Dispatcher.ExecuteAsync("weather", SkillsHarness.Context("weather in Atlantis"), CancellationToken.None);
            Assert.Equal("I couldn't find a place called \"Atlantis\".", unknown.Text);
        }
        finally
        {
            SkillsHarness.DeleteRoot(skills.Root);
        }
    }

    [Fact]
    public async Task An_unreachable_or_failing_service_gives_a_clear_unavailable_reply_and_no_invented_forecast()
    {
        // A port nobody listens on: bind, note it, release it.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        await using var skills = await SkillsHarness.StartAsync(settings: Urls($"http://127.0.0.1:{port}"));
        await using var api = await FakeOpenMeteo.StartAsync();
        await using var failing = await SkillsHarness.StartAsync(settings: Urls(api.BaseUrl));
        api.FailWith = 503;
        try
        {
            var (_, en) = await skills.SayAsync("what's the weather in Berlin?");
            Assert.True(en.Succeeded);
            Assert.StartsWith("Sorry, weather information is unavailable right now", en.Text);
            Assert.DoesNotContain("°", en.Text);
            var (_, zh) = await skills.SayAsync("北京天气", "zh");
            Assert.StartsWith("抱歉，现在无法获取天气信息", zh.Text);

            var (_, http503) = await failing.SayAsync("weather in Berlin");
            Assert.StartsWith("Sorry, weather information is unavailable right now", http503.Text);
            Assert.Contains("\"available\":false", http503.CardJson);
        }
        finally
        {
            SkillsHarness.DeleteRoot(skills.Root);
            SkillsHarness.DeleteRoot(failing.Root);
        }
    }
}
