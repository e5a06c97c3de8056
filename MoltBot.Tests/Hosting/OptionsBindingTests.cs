using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Configuration;
using MoltBot.Dialog;
using MoltBot.Gateway;
using MoltBot.Inference;
using MoltBot.Memory;
using MoltBot.Security;
using MoltBot.Skills;

namespace MoltBot.Tests.Hosting;

/// <summary>
/// The options are bound by code the configuration-binding source generator writes (no reflection at start-up): every
/// kind of setting the modules use still arrives — numbers, doubles, booleans, nested sections, lists, dictionaries
/// that keep their case-insensitive comparer — and the host's own early binds (Pipeline → shutdown timeout) too.
/// </summary>
public class OptionsBindingTests
{
    [Fact]
    public async Task Settings_of_every_kind_reach_the_modules_options()
    {
        string? root = null;
        var app = TestHost.Build(new Dictionary<string, string>
        {
            ["Memory:HnswM"] = "32",
            ["Memory:HnswQuantizedWalk"] = "true",
            ["Dialog:RecallMinScore"] = "0.25",
            ["Gateway:Tokens:0"] = "first-token-0123456789",
            ["Gateway:Tokens:1"] = "second-token-0123456789",
            ["Skills:Weather:ForecastDays"] = "5",
            ["Inference:NluMaxWaitMs"] = "3",
            ["Pipeline:ShardCount"] = "4",
            ["Pipeline:DrainTimeoutSeconds"] = "7",
            ["Security:Pii:Restore:email"] = "false",
            ["Security:Roles:Support:0"] = "status.read",
        }, null, ref root);
        try
        {
            var s = app.Services;
            Assert.Equal(32, s.GetRequiredService<IOptions<MemoryOptions>>().Value.HnswM);
            Assert.True(s.GetRequiredService<IOptions<MemoryOptions>>().Value.HnswQuantizedWalk);
            Assert.Equal(0.25, s.GetRequiredService<IOptions<DialogOptions>>().Value.RecallMinScore);
            Assert.Equal(["first-token-0123456789", "second-token-0123456789"], s.GetRequiredService<IOptions<GatewayOptions>>().Value.Tokens);
            Assert.Equal(5, s.GetRequiredService<IOptions<WeatherOptions>>().Value.ForecastDays);
            Assert.Equal(3, s.GetRequiredService<IOptions<InferenceOptions>>().Value.NluMaxWaitMs);
            Assert.Equal(4, s.GetRequiredService<IOptions<PipelineOptions>>().Value.ShardCount);
            Assert.Equal(TimeSpan.FromSeconds(27), s.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);

            var security = s.GetRequiredService<IOptions<SecurityOptions>>().Value;
            // "email" overrode the default "EMAIL" entry: the dictionary kept its case-insensitive comparer.
            Assert.False(security.Pii.Restore["EMAIL"]);
            Assert.Single(security.Pii.Restore, kv => kv.Key.Equals("email", StringComparison.OrdinalIgnoreCase));
            Assert.Equal(["status.read"], security.Roles["support"]);
        }
        finally
        {
            // Building started the model loads (see MoltBotApp.StartModelLoading); they stop with the host.
            await app.DisposeAsync();
            try { Directory.Delete(root!, recursive: true); } catch (IOException) { }
        }
    }
}
