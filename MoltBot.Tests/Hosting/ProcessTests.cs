namespace MoltBot.Tests.Hosting;

/// <summary>The real executable: exit codes, one-line errors on stderr, SIGTERM, --help.</summary>
public class ProcessTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Bad_configuration_exits_with_code_2_and_one_stderr_line()
    {
        await using var p = MoltBotProcess.Start(["--urls", "http://127.0.0.1:0", "--Pipeline:ShardCount", "0"]);
        Assert.Equal(2, await p.WaitForExitAsync(Timeout));
        string line = Assert.Single(p.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("moltbot: configuration error: Pipeline:ShardCount must be between 1 and 256", line);
    }

    [Fact]
    public async Task Unknown_verb_is_rejected()
    {
        await using var p = MoltBotProcess.Start(["trian"]);
        Assert.Equal(2, await p.WaitForExitAsync(Timeout));
        Assert.Contains("unknown verb or argument 'trian'", p.Stderr);
    }

    [Fact]
    public async Task Help_lists_the_verbs()
    {
        await using var p = MoltBotProcess.Start(["--help"], withModels: false);
        Assert.Equal(0, await p.WaitForExitAsync(Timeout));
        Assert.Contains("run", p.Stdout);
        Assert.Contains("Start MoltBot", p.Stdout);
    }

    [Fact]
    public async Task Sigterm_shuts_down_cleanly_after_serving()
    {
        await using var p = MoltBotProcess.Start(["--urls", "http://127.0.0.1:0", "--Log:File", "false"]);
        var url = await p.WaitForListeningAsync(Timeout);
        using (var client = new HttpClient { BaseAddress = url })
        {
            Assert.Equal("Healthy", await client.GetStringAsync("/healthz"));
        }
        p.Terminate();
        Assert.Equal(0, await p.WaitForExitAsync(Timeout));
        Assert.Contains("Pipeline stopped", p.Stderr);
    }
}
