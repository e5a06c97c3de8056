namespace MoltBot.Inference.Training.Loop;

/// <summary>Optimiser and schedule settings shared by every training and distillation run.</summary>
public sealed record TrainingRunOptions
{
    public int Seed { get; init; } = 1234;
    public int Steps { get; init; } = 2000;
    public int BatchSize { get; init; } = 32;
    public double LearningRate { get; init; } = 1e-3;
    public double WeightDecay { get; init; } = 0.01;
    public int WarmupSteps { get; init; } = 100;
    /// <summary>Held-out evaluation (and a checkpoint) every this many steps; 0 = only at the end.</summary>
    public int EvalEvery { get; init; } = 250;
    public double ClipNorm { get; init; } = 1.0;
    /// <summary>torch intra-op threads (the machine is shared: keep it small).</summary>
    public int Threads { get; init; } = 2;
    /// <summary>Continue from the checkpoint in the output folder instead of starting from scratch.</summary>
    public bool Resume { get; init; }

    public void Validate()
    {
        if (Steps < 1) throw new ArgumentException("--steps must be >= 1");
        if (BatchSize < 1) throw new ArgumentException("--batch-size must be >= 1");
        if (LearningRate <= 0) throw new ArgumentException("--lr must be > 0");
        if (Threads < 1) throw new ArgumentException("--threads must be >= 1");
    }
}

/// <summary>Knowledge-distillation settings: loss = α·T²·KL(teacher/T ‖ student/T) + (1−α)·CE(labels) [+ β·alignment].</summary>
public sealed record DistillationOptions
{
    public double Alpha { get; init; } = 0.5;
    public double Temperature { get; init; } = 2.0;
    /// <summary>Weight of the hidden-state alignment term (0 = off).</summary>
    public double HiddenAlignment { get; init; }

    public void Validate()
    {
        if (Alpha is < 0 or > 1) throw new ArgumentException("--alpha must be in [0, 1]");
        if (Temperature <= 0) throw new ArgumentException("--temperature must be > 0");
        if (HiddenAlignment < 0) throw new ArgumentException("--align-hidden must be >= 0");
    }
}
