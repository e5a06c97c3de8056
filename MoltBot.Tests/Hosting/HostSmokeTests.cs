using System.Net;

namespace MoltBot.Tests.Hosting;

public class HostSmokeTests
{
    [Fact]
    public async Task Host_answers_health_readiness_and_metrics()
    {
        await using var host = await TestHost.StartAsync();
        using var client = host.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        var ready = await client.GetAsync("/readyz");
        string body = await ready.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains("\"pipeline\"", body);
        string metrics = await client.GetStringAsync("/metrics");
        Assert.Contains("moltbot_stage_seconds", metrics);
        Assert.Contains("moltbot_queue_depth", metrics);
    }
}
