using System.Diagnostics;
using System.Text.RegularExpressions;
using MoltBot.Contracts.Inference;
using MoltBot.DevTools.Sandbox.Simulated;

namespace MoltBot.DevTools.Sandbox;

/// <summary>
/// Plays the script's stories on every platform at once: each (platform, user, story) is its own conversation,
/// its steps are sent one after the other, each waiting for its reply. Counts sent, answered, lost, late and
/// duplicated replies per platform and checks each step's expectations (reply pattern; intent and slots through
/// the NLU engine, as test-stories does).
/// </summary>
public sealed class UserSimulator(IReadOnlyList<SimulatedPlatform> platforms, SandboxTranscript transcript, INluEngine? nlu, TimeSpan replyTimeout)
{
    /// <summary>How long to keep listening after the last step, so late duplicates are counted.</summary>
    public TimeSpan SettleTime { get; init; } = TimeSpan.FromSeconds(1);

    public async Task<SandboxReport> RunAsync(IReadOnlyList<Story> stories, int users, CancellationToken cancellationToken)
    {
        var stats = platforms.ToDictionary(p => p.Name, p => new PlatformStats(p.Name));
        var conversations = new Dictionary<(string, string), SimulatedConversation>();
        var plays = new List<(SimulatedPlatform Platform, SimulatedConversation Conversation, Story Story)>();
        foreach (var platform in platforms)
        {
            int number = 0;
            for (int u = 0; u < users; u++)
            {
                foreach (var story in stories)
                {
                    var c = new SimulatedConversation(platform.Name, platform.Conversation(++number), stats[platform.Name]);
                    conversations[(platform.Name, c.Id)] = c;
                    plays.Add((platform, c, story));
                }
            }
        }

        void OnReplied(SimulatedPlatform platform, string conversation, string text)
        {
            if (conversations.TryGetValue((platform.Name, conversation), out var c)) c.OnReply(text, transcript);
            else
            {
                stats[platform.Name].Unsolicited();
                transcript.Unsolicited(platform.Name, conversation, text);
            }
        }

        var handlers = platforms.Select(p => (Platform: p, Replied: (Action<string, string>)((c, t) => OnReplied(p, c, t)),
            Refused: (Action<string, string>)((c, reason) => { if (conversations.TryGetValue((p.Name, c), out var conv)) conv.OnRefused(reason); }))).ToList();
        foreach (var h in handlers)
        {
            h.Platform.Replied += h.Replied;
            h.Platform.Refused += h.Refused;
        }
        var failures = new List<StepFailure>();
        try
        {
            var results = await Task.WhenAll(plays.Select(p => PlayAsync(p.Platform, p.Conversation, p.Story, cancellationToken))).ConfigureAwait(false);
            foreach (var r in results) failures.AddRange(r);
            await Task.Delay(SettleTime, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            foreach (var h in handlers)
            {
                h.Platform.Replied -= h.Replied;
                h.Platform.Refused -= h.Refused;
            }
        }
        foreach (var c in conversations.Values) c.Finish();
        return new SandboxReport(platforms.Select(p => stats[p.Name].Result()).ToList(), failures);
    }

    private async Task<List<StepFailure>> PlayAsync(SimulatedPlatform platform, SimulatedConversation conversation, Story story, CancellationToken cancellationToken)
    {
        var failures = new List<StepFailure>();
        for (int i = 0; i < story.Steps.Count; i++)
        {
            var step = story.Steps[i];
            var problems = new List<string>();
            Task<string>? nluCheck = null;
            if (step.Intent is not null || step.Slots is not null)
            {
                nluCheck = nlu is null
                    ? Task.FromResult("no NLU engine is registered in this build")
                    : CheckNluAsync(nlu, step, cancellationToken);
            }
            var pending = conversation.Expect();
            long started = Stopwatch.GetTimestamp();
            try
            {
                await platform.SendAsync(conversation.Id, $"sbx{Guid.NewGuid():N}", step.User, story.Language, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException or System.Net.WebSockets.WebSocketException or TaskCanceledException
                                       && !cancellationToken.IsCancellationRequested)
            {
                conversation.OnRefused("not delivered to MoltBot: " + ex.Message);
            }
            SimulatedReply reply;
            try
            {
                reply = await pending.WaitAsync(replyTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                conversation.TimedOut(pending);
                transcript.Step(platform.Name, conversation.Id, step.User, null, null, [$"no reply within {replyTimeout.TotalSeconds:F0} s"]);
                failures.Add(new StepFailure(platform.Name, conversation.Id, story.Name, i + 1, step.User, $"no reply within {replyTimeout.TotalSeconds:F0} s"));
                // The conversation's state is unknown now: its later steps would only fail for the same reason.
                conversation.Stats.Skipped(story.Steps.Count - i - 1);
                return failures;
            }
            double ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (reply.Error is { } error)
            {
                // Refused by the platform or by MoltBot's front door: this message will never be answered.
                conversation.Stats.Lost(1);
                transcript.Step(platform.Name, conversation.Id, step.User, null, null, [error]);
                failures.Add(new StepFailure(platform.Name, conversation.Id, story.Name, i + 1, step.User, error));
                conversation.Stats.Skipped(story.Steps.Count - i - 1);
                return failures;
            }
            conversation.Stats.Answered(ms);
            if (step.Reply is not null && !Regex.IsMatch(reply.Text, step.Reply)) problems.Add($"reply does not match /{step.Reply}/");
            if (nluCheck is not null && await nluCheck.ConfigureAwait(false) is { Length: > 0 } nluProblem) problems.Add(nluProblem);
            if (problems.Count > 0)
            {
                conversation.Stats.FailedExpectation();
                failures.Add(new StepFailure(platform.Name, conversation.Id, story.Name, i + 1, step.User, string.Join("; ", problems)));
            }
            transcript.Step(platform.Name, conversation.Id, step.User, reply.Text, ms, problems);
        }
        return failures;
    }

    private static async Task<string> CheckNluAsync(INluEngine nlu, StoryStep step, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        StoryRunner.CheckNlu(await nlu.ParseAsync(step.User, cancellationToken).ConfigureAwait(false), step, problems);
        return string.Join("; ", problems);
    }
}
