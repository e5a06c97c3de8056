namespace MoltBot.Inference.Training.Loop;

/// <summary>A progress report from a running training loop (rendered by the CLI as a progress bar).</summary>
public sealed record TrainingProgress(long Step, long TotalSteps, double Loss, double ItemsPerSecond, TimeSpan Eta, string? Note = null);

/// <summary>How a run ended.</summary>
public enum TrainingOutcome
{
    Completed,
    /// <summary>Cancelled (Ctrl+C): a resumable checkpoint was saved.</summary>
    Interrupted,
}

public sealed record TrainingResult(TrainingOutcome Outcome, long Step, double FinalLoss, string OutputDir)
{
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();
}
