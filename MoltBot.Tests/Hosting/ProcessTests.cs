namespace MoltBot.Tests.Hosting;

/// <summary>The real executable: exit codes, one-line errors on stderr, SIGTERM, --help.</summary>
public class ProcessTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Options are bound and checked by build-time generated code now; a rule broken, a value of the wrong type or a
    /// module's cross-field rule still ends the process with exit code 2 and the rule's own one-line message.
    /// </summary>
    [Theory]
    [InlineData("--Pipeline:ShardCount", "0", "moltbot: configuration error: Pipeline:ShardCount must be between 1 and 256")]
    [InlineData("--Memory:HnswM", "1", "moltbot: configuration error: Memory:HnswM must be between 2 and 128 (links per node).")]
    [InlineData("--Inference:Threads", "x", "moltbot: configuration error: Failed to convert configuration value 'x' at 'Inference:Threads'")]
    public async Task Bad_configuration_exits_with_code_2_and_one_stderr_line(string key, string value, string expected)
    {
        await using var p = MoltBotProcess.Start(["--urls", "http://127.0.0.1:0", key, value]);
        Assert.Equal(2, await p.WaitForExitAsync(Timeout));
        string line = Assert.Single(p.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith(expected, line);
    }

    [Fact]
    public async Task A_blank_data_directory_exits_with_code_2_before_writing_into_the_content_root()
    {
        await using var p = MoltBotProcess.Start(["--urls", "http://127.0.0.1:0", "--Storage:DataDirectory", ""]);
        Assert.Equal(2, await p.WaitForExitAsync(Timeout));
        string line = Assert.Single(p.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("moltbot: configuration error: Storage:DataDirectory must be a directory path", line);
        // It used to resolve to the content root, where the vault key and the reminder database were then created.
        Assert.False(Directory.Exists(Path.Combine(p.Root, "security")), "security/ was created in the content root");
        Assert.False(Directory.Exists(Path.Combine(p.Root, "skills")), "skills/ was created in the content root");
    }

    /// <summary>
    /// The reminder database opens after the first reply or Skills:Reminders:OpenDelayMs (not while the host is built),
    /// yet a corrupt one still ends start-up with its one line and exit code 2, and the file is left as it was.
    /// </summary>
    [Fact]
    public async Task A_corrupt_reminder_database_exits_with_code_2_and_one_stderr_line()
    {
        string root = Directory.CreateTempSubdirectory("moltbot-proc").FullName;
        string file = Path.Combine(root, "data", "skills", "reminders.db");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var garbage = Enumerable.Repeat((byte)'x', 16_384).ToArray();
        await File.WriteAllBytesAsync(file, garbage);
        await using var p = MoltBotProcess.Start(["--urls", "http://127.0.0.1:0", "--Storage:DataDirectory", Path.Combine(root, "data"),
            "--Log:Console", "none", "--Log:File", "false"], root);
        Assert.Equal(2, await p.WaitForExitAsync(Timeout));
        // By then the int8 kernel may have compiled, and libtorch prints its own deprecation warnings ("[W…") to stderr;
        // MoltBot's output is the one line, last.
        var lines = p.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("moltbot: Reminder database " + file + " cannot be opened (", lines[^1]);
        Assert.All(lines[..^1], l => Assert.StartsWith("[W", l));
        Assert.Equal(garbage, await File.ReadAllBytesAsync(file));
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
        int code = await p.WaitForExitAsync(Timeout);
        Assert.True(code == 0, $"exit code {code}; stderr:\n{p.Stderr}");
        Assert.Contains("Pipeline stopped", p.Stderr);
    }
}
