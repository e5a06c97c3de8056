using MoltBot.Hosting;
using MoltBot.Inference.Engines;

namespace MoltBot.Tests.Hosting;

public class StartupTimelineTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task The_start_up_timeline_records_the_host_milestones_in_order()
    {
        await using var host = await TestHost.StartAsync();
        var timeline = host.Services.GetRequiredService<StartupTimeline>();

        var milestones = timeline.Milestones;
        Assert.Equal(["host build begun", "host built", "options validated", "hosted services starting", "listening"], milestones.Take(5).Select(m => m.What));
        for (int i = 1; i < milestones.Count; i++) Assert.True(milestones[i].Ms >= milestones[i - 1].Ms, timeline.Describe());
        Assert.True(milestones[0].Ms > 0);
        Assert.Contains("listening", timeline.Describe());
    }

    /// <summary>The models start loading as soon as the service provider exists, not when the hosted services start.</summary>
    [Fact]
    public async Task Models_begin_loading_when_the_host_is_built_before_it_is_started()
    {
        string? root = null;
        var app = TestHost.Build(null, null, ref root);
        try
        {
            var registry = app.Services.GetRequiredService<ModelRegistry>();
            // Loaded only reports: it does not start anything. The host is never started.
            await registry.Loaded.WaitAsync(Timeout);
            Assert.Contains(registry.Models, m => m.Id == "student-nlu");
            Assert.Empty(registry.Pending);
        }
        finally
        {
            await app.DisposeAsync();
            try { Directory.Delete(root!, recursive: true); } catch (IOException) { }
        }
    }
}
