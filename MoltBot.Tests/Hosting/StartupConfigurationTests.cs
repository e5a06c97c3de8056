using MoltBot.Hosting;

namespace MoltBot.Tests.Hosting;

/// <summary>Invalid configuration stops start-up with one line naming the key.</summary>
public class StartupConfigurationTests
{
    public static TheoryData<string, string, string> BadSettings => new()
    {
        { "Pipeline:ShardCount", "0", "Pipeline:ShardCount must be between 1 and 256" },
        { "Pipeline:InboundCapacity", "-5", "Pipeline:InboundCapacity must be between 1 and 1000000" },
        { "Pipeline:ShardCapacity", "0", "Pipeline:ShardCapacity must be between 1 and 1000000" },
        { "Pipeline:DrainTimeoutSeconds", "-1", "Pipeline:DrainTimeoutSeconds must be between 0 and 3600" },
        { "Log:Level", "Loud", "Log:Level 'Loud' is not a log level" },
        { "Models:Directory", "/nonexistent/moltbot-models", "Models:Directory '/nonexistent/moltbot-models' does not exist" },
        { "Pipeline:ShardCount", "many", "Pipeline" },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public async Task Bad_value_stops_start_up_with_one_line_naming_the_key(string key, string value, string expected)
    {
        var lines = await StartAndDescribeFailure(new Dictionary<string, string> { [key] = value });
        string line = Assert.Single(lines);
        Assert.Contains(expected, line);
        Assert.Contains(key.Split(':')[0], line);
        Assert.DoesNotContain("\n", line);
    }

    [Fact]
    public async Task Several_bad_values_are_all_reported()
    {
        var lines = await StartAndDescribeFailure(new Dictionary<string, string>
        {
            ["Pipeline:ShardCount"] = "0", ["Pipeline:OutboundSenders"] = "0",
        });
        Assert.Contains(lines, l => l.Contains("Pipeline:ShardCount"));
        Assert.Contains(lines, l => l.Contains("Pipeline:OutboundSenders"));
    }

    private static async Task<IReadOnlyList<string>> StartAndDescribeFailure(Dictionary<string, string> settings)
    {
        string? root = null;
        try
        {
            await using var app = TestHost.Build(settings, null, ref root);
            await app.StartAsync();
            await app.StopAsync();
        }
        catch (Exception ex)
        {
            var lines = StartupErrors.Describe(ex);
            Assert.True(lines.Count > 0, "not described as a start-up error: " + ex);
            return lines;
        }
        finally
        {
            if (root is not null) Directory.Delete(root, recursive: true);
        }
        throw new Xunit.Sdk.XunitException("start-up did not fail");
    }
}
