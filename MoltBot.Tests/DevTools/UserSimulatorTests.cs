using MoltBot.DevTools;
using MoltBot.DevTools.Sandbox;
using MoltBot.DevTools.Sandbox.Simulated;
using Spectre.Console;

namespace MoltBot.Tests.DevTools;

/// <summary>The simulator's bookkeeping against a platform that misbehaves on purpose (no MoltBot involved).</summary>
public class UserSimulatorTests
{
    /// <summary>
    /// Answers "re:TEXT" once, except: "once" also makes MoltBot write to a conversation nobody started, "twice" is
    /// answered twice, "never" never, "late" only once <see cref="ReleaseLate"/> completes (the test releases it after
    /// the simulator gave up waiting), "refuse" is refused.
    /// </summary>
    private sealed class MisbehavingPlatform : SimulatedPlatform
    {
        public override string Name => "test";
        public override string Url => "";
        public override IEnumerable<KeyValuePair<string, string>> Settings => [];
        public override string Conversation(int user) => "c" + user;

        public Func<Task> ReleaseLate { get; init; } = () => Task.CompletedTask;

        public override Task SendAsync(string conversation, string messageId, string text, string? language, CancellationToken cancellationToken)
        {
            _ = Task.Run(async () =>
            {
                switch (text)
                {
                    case "never":
                        return;
                    case "refuse":
                        OnRefused(conversation, "refused: test");
                        return;
                    case "late":
                        await ReleaseLate();
                        break;
                    case "once":
                        OnReplied("nobody", "a reminder");
                        break;
                }
                OnReplied(conversation, "re:" + text);
                if (text == "twice") OnReplied(conversation, "re:" + text);
            }, CancellationToken.None);
            return Task.CompletedTask;
        }
    }

    private static bool GaveUpOnLate(string transcript) =>
        transcript.Split('\n').Any(line => line.Contains(" late ", StringComparison.Ordinal) && line.Contains("(no reply)", StringComparison.Ordinal));

    private static Story S(string name, params string[] steps) => new() { Name = name, Steps = steps.Select(s => new StoryStep(s, Reply: "^re:")).ToList() };

    [Fact]
    public async Task Lost_late_duplicated_and_refused_replies_are_counted_and_fail_the_run()
    {
        var output = new ObservedStringWriter();
        // The "late" reply is sent once the transcript shows the simulator gave up on it (its 500 ms timeout passed).
        var platform = new MisbehavingPlatform { ReleaseLate = () => output.WaitForAsync(GaveUpOnLate, TimeSpan.FromSeconds(60)) };
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, Out = new AnsiConsoleOutput(TextWriter.Synchronized(output)) });
        console.Profile.Width = 240;
        var simulator = new UserSimulator([platform], new SandboxTranscript(console), nlu: null, replyTimeout: TimeSpan.FromMilliseconds(500))
        {
            SettleTime = TimeSpan.FromSeconds(3),
        };
        var stories = new[]
        {
            S("fine then doubled", "once", "twice"),
            S("lost", "never", "not sent after a lost reply"),
            S("late", "late"),
            S("refused", "refuse"),
        };
        var report = await simulator.RunAsync(stories, users: 1, CancellationToken.None);

        var r = Assert.Single(report.Platforms);
        Assert.Equal(5, r.Sent);             // once, twice, never, late, refuse
        Assert.Equal(2, r.Answered);         // once, twice
        Assert.Equal(1, r.Duplicated);       // the second answer to "twice"
        Assert.Equal(1, r.Late);             // "late" came after the 500 ms timeout
        Assert.Equal(2, r.Lost);             // "never" and the refused one
        Assert.Equal(1, r.Skipped);          // the step after "never"
        Assert.Equal(1, r.Unsolicited);
        Assert.False(report.Passed);
        Assert.Equal(1, report.ExitCode);
        Assert.Equal(["late", "lost", "refused"], report.Failures.Select(f => f.Story).Order(StringComparer.Ordinal));
        string transcript = output.ToString();
        Assert.Contains("DUPLICATE reply re:twice", transcript);
        Assert.Contains("late reply re:late", transcript);
        Assert.Contains("MoltBot wrote a reminder", transcript);
        Assert.Contains("refused: test", transcript);
    }

    [Fact]
    public async Task A_wrong_reply_is_a_failed_expectation_not_a_lost_message()
    {
        var platform = new MisbehavingPlatform();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, Out = new AnsiConsoleOutput(new StringWriter()) });
        var simulator = new UserSimulator([platform], new SandboxTranscript(console), nlu: null, replyTimeout: TimeSpan.FromSeconds(10))
        {
            SettleTime = TimeSpan.FromMilliseconds(200),
        };
        var story = new Story { Name = "pattern", Steps = [new StoryStep("hello", Reply: "^goodbye")] };
        var report = await simulator.RunAsync([story], users: 3, CancellationToken.None);

        var r = Assert.Single(report.Platforms);
        Assert.Equal((3, 3, 0, 0, 3), (r.Sent, r.Answered, r.Lost, r.Duplicated, r.FailedExpectations));
        Assert.Equal(3, report.Failures.Count);
        Assert.All(report.Failures, f => Assert.Equal("reply does not match /^goodbye/", f.Reason));
        Assert.Equal(1, report.ExitCode);
    }
}
