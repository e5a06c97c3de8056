using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;

namespace MoltBot.Tests.Skills;

/// <summary>A local HTTP server on 127.0.0.1 (free port) speaking Open-Meteo's geocoding and forecast JSON.</summary>
public sealed class FakeOpenMeteo : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeOpenMeteo(WebApplication app) => _app = app;

    public string BaseUrl => _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>When set, every request gets this status code.</summary>
    public int? FailWith { get; set; }

    public static async Task<FakeOpenMeteo> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var fake = new FakeOpenMeteo(app);
        app.Use(async (ctx, next) =>
        {
            fake.Requests.Enqueue(ctx.Request.Path + ctx.Request.QueryString);
            if (fake.FailWith is { } code)
            {
                ctx.Response.StatusCode = code;
                return;
            }
            await next();
        });
        app.MapGet("/v1/search", (string name) => name.ToLowerInvariant() switch
        {
            "berlin" => Results.Text("""{"results":[{"id":2950159,"name":"Berlin","latitude":52.52437,"longitude":13.41053,"country":"Germany","timezone":"Europe/Berlin"}],"generationtime_ms":0.5}""", "application/json"),
            "shanghai" => Results.Text("""{"results":[{"id":1796236,"name":"上海","latitude":31.22222,"longitude":121.45806,"country":"中国","timezone":"Asia/Shanghai"}]}""", "application/json"),
            _ => Results.Text("""{"generationtime_ms":0.3}""", "application/json"),
        });
        app.MapGet("/v1/forecast", (double latitude, double longitude) => Results.Text(latitude > 40
            ? """
              {"latitude":52.52,"longitude":13.41,"timezone":"Europe/Berlin",
               "current":{"time":"2026-11-23T11:00","interval":900,"temperature_2m":4.2,"relative_humidity_2m":81,"weather_code":3,"wind_speed_10m":14.8},
               "daily":{"time":["2026-11-23","2026-11-24","2026-11-25"],"weather_code":[3,61,0],"temperature_2m_max":[6.1,7.9,5.0],"temperature_2m_min":[1.2,3.4,-1.0],"precipitation_probability_max":[10,80,0]}}
              """
            : """
              {"latitude":31.22,"longitude":121.46,"timezone":"Asia/Shanghai",
               "current":{"time":"2026-11-23T18:00","temperature_2m":15.6,"relative_humidity_2m":60,"weather_code":1,"wind_speed_10m":9.0},
               "daily":{"time":["2026-11-23","2026-11-24","2026-11-25"],"weather_code":[1,95,2],"temperature_2m_max":[18.0,16.4,17.0],"temperature_2m_min":[11.0,12.0,10.5],"precipitation_probability_max":[5,90,20]}}
              """, "application/json"));
        await app.StartAsync();
        return fake;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
