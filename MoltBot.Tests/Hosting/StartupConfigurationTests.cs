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
        { "Pipeline:ShardCount", "many", "'many' at 'Pipeline:ShardCount'" },
        // A module's options (bound when first used, not by the host): was a stack trace and exit code 1.
        { "Inference:Threads", "x", "configuration error: Failed to convert configuration value 'x' at 'Inference:Threads'" },
        { "Memory:HnswM", "lots", "configuration error: Failed to convert configuration value 'lots' at 'Memory:HnswM'" },
        // One per module whose options rules run as source-generated validators: the message is still the rule's own
        // (the generated [Range] alone would say "The field XOptions.Key must be between …").
        { "Memory:HnswM", "1", "Memory:HnswM must be between 2 and 128 (links per node)." },
        { "Dialog:ContextTurns", "0", "Dialog:ContextTurns must be between 1 and 20 (turns)." },
        { "Inference:SecondaryLoadDelayMs", "-1", "Inference:SecondaryLoadDelayMs must be between 0 (load at once) and 600000 ms." },
        { "Inference:NluPolicy", "sometimes", "Inference:NluPolicy must be escalate, student or teacher." },
        { "Skills:Weather:ForecastDays", "0", "Skills:Weather:ForecastDays must be between 1 and 16." },
        { "Skills:Reminders:MaxDaysAhead", "0", "Skills:Reminders:MaxDaysAhead must be between 1 and 3650." },
        { "Skills:Memory:RecallCount", "0", "Skills:Memory:RecallCount must be between 1 and 20." },
        { "Skills:ReloadDebounceMilliseconds", "10", "Skills:ReloadDebounceMilliseconds must be between 50 and 60000." },
        { "Trace:BufferCapacity", "1", "Trace:BufferCapacity must be between 16 and 1000000 (events)." },
        { "Gateway:RatePerSecond", "0", "Gateway:RatePerSecond must be between 0.1 and 10000 (client frames per second)." },
        { "Gateway:HistoryTotalBytes", "0", "Gateway:HistoryTotalBytes must be between 65536 and 17179869184 (bytes of history kept in memory for all conversations together)." },
        { "Gateway:ResumeBufferTotalBytes", "65535", "Gateway:ResumeBufferTotalBytes must be between 65536 and 17179869184 (bytes of resume frames kept by all sessions together)." },
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

    /// <summary>A rule of IValidatableObject (no member name) keeps its whole message, without the DataAnnotations wrapper.</summary>
    [Fact]
    public async Task A_cross_field_rule_is_reported_as_its_own_message()
    {
        var lines = await StartAndDescribeFailure(new Dictionary<string, string>
        {
            ["Inference:TeacherNlu"] = "", ["Inference:StudentNlu"] = "", ["Inference:TeacherLm"] = "", ["Inference:StudentLm"] = "",
        });
        Assert.Equal("configuration error: Inference: at least one of TeacherNlu, StudentNlu, TeacherLm, StudentLm must name a model folder.", Assert.Single(lines));
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
