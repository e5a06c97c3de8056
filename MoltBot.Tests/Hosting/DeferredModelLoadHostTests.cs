using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using MoltBot.Inference.Engines;
using MoltBot.Tests.Gateway;

namespace MoltBot.Tests.Hosting;

public class DeferredModelLoadHostTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    /// <summary>
    /// The whole host with the bundled models: the first WebSocket message is answered while the secondary models
    /// still wait, the reply being sent starts their load, and the host's start-up completes once they are loaded.
    /// </summary>
    [Fact]
    public async Task The_first_reply_is_served_before_the_secondary_models_load_and_starts_their_load()
    {
        string? root = null;
        var app = TestHost.Build(new Dictionary<string, string>
        {
            ["Gateway:Tokens:0"] = GatewayFixture.Token,
            ["Inference:SecondaryLoadDelayMs"] = "600000", // only the reply can start them within this test
        }, null, ref root);
        try
        {
            var registry = app.Services.GetRequiredService<ModelRegistry>();
            var start = app.StartAsync();
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
            var deadline = DateTime.UtcNow + Timeout;
            while (!addresses.Any(a => !a.EndsWith(":0", StringComparison.Ordinal)) && DateTime.UtcNow < deadline && !start.IsFaulted)
                await Task.Delay(20);
            Assert.False(start.IsCompleted); // waits for the secondary models
            string http = addresses.First(a => !a.EndsWith(":0", StringComparison.Ordinal));
            var ws = new Uri(http.Replace("http://", "ws://").TrimEnd('/') + "/ws");

            var (client, _, session) = await WsClient.OpenSessionAsync(ws);
            await using (client)
            {
                Assert.Equal("session", (string?)session["type"]);
                await client.SendAsync(new { type = "send", id = "m1", text = "hello" });
                while ((string?)(await client.ReceiveAsync())["type"] != "reply.final") { }
            }
            await start.WaitAsync(Timeout);
            Assert.True(registry.SecondaryLoadsRequested);
            Assert.True(registry.IsLoaded);
            Assert.Empty(registry.Pending);
        }
        finally
        {
            await app.DisposeAsync();
            try { Directory.Delete(root!, recursive: true); } catch (IOException) { }
        }
    }
}
