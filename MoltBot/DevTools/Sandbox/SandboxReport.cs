namespace MoltBot.DevTools.Sandbox;

/// <summary>One platform's counts at the end of a sandbox run.</summary>
/// <param name="Sent">Messages the simulated users sent.</param>
/// <param name="Answered">Messages that got their reply within the reply timeout.</param>
/// <param name="Lost">Messages whose reply never came (not even late).</param>
/// <param name="Duplicated">Replies beyond one per message.</param>
/// <param name="Late">Replies that came after the reply timeout.</param>
/// <param name="Unsolicited">Replies to conversations no simulated user has (e.g. MoltBot-initiated).</param>
/// <param name="FailedExpectations">Steps whose reply pattern, intent or slots did not match.</param>
/// <param name="LatenciesMs">Send → reply time of every answered message.</param>
public sealed record PlatformResult(string Platform, int Sent, int Answered, int Lost, int Duplicated, int Late, int Unsolicited,
    int FailedExpectations, IReadOnlyList<double> LatenciesMs)
{
    /// <summary>Steps never sent because an earlier step of the same conversation got no reply.</summary>
    public int Skipped { get; init; }

    public double? P50Ms => Percentile(0.50);
    public double? P95Ms => Percentile(0.95);

    private double? Percentile(double p)
    {
        if (LatenciesMs.Count == 0) return null;
        var sorted = LatenciesMs.Order().ToArray();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
    }
}

/// <summary>A step that did not go as the script says.</summary>
public sealed record StepFailure(string Platform, string Conversation, string Story, int Step, string User, string Reason);

/// <summary>The outcome of a sandbox run; <see cref="Passed"/> decides the exit code.</summary>
public sealed record SandboxReport(IReadOnlyList<PlatformResult> Platforms, IReadOnlyList<StepFailure> Failures)
{
    public bool Passed => Failures.Count == 0 && Platforms.All(p => p.Lost == 0 && p.Duplicated == 0 && p.FailedExpectations == 0);

    public int ExitCode => Passed ? 0 : 1;
}
