namespace MoltBot.Inference.Training.Loop;

/// <summary>Linear warm-up, then cosine decay to 10% of the peak: stable start, gentle finish for tiny models.</summary>
public static class LearningRateSchedule
{
    public static double At(long step, TrainingRunOptions o)
    {
        if (step < o.WarmupSteps) return o.LearningRate * (step + 1) / o.WarmupSteps;
        double progress = Math.Clamp((double)(step - o.WarmupSteps) / Math.Max(1, o.Steps - o.WarmupSteps), 0, 1);
        return o.LearningRate * (0.1 + 0.9 * 0.5 * (1 + Math.Cos(Math.PI * progress)));
    }
}
