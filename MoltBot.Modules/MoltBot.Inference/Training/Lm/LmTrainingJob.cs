using MoltBot.Inference.Training.Corpus;
using MoltBot.Inference.Training.Loop;

namespace MoltBot.Inference.Training.Lm;

/// <summary>What `train lm` and `distill lm` run (dialog JSONL in, a decoder model folder out).</summary>
public sealed record LmTrainingJob
{
    public required string TrainFile { get; init; }
    public string? HeldOutFile { get; init; }
    public required string OutDir { get; init; }
    public string? TokenizerDir { get; init; }
    public IReadOnlyList<string> ExtraTokenizerText { get; init; } = [];
    public int VocabSize { get; init; } = 3000;
    public LmArchitecture Architecture { get; init; } = new();
    public TrainingRunOptions Run { get; init; } = new();
    public MalformedLinePolicy Policy { get; init; } = MalformedLinePolicy.Fail;
    /// <summary>A decoder folder (ours or a Hugging Face llama/qwen2/mistral) to distill from.</summary>
    public string? TeacherDir { get; init; }
    public DistillationOptions Distillation { get; init; } = new();
    public int MaxLength { get; init; } = 256;
    /// <summary>
    /// When set, the model with the lowest held-out perplexity seen at any evaluation is also saved here (with
    /// best.json naming its step), so a run that starts to memorise late still yields its best checkpoint.
    /// </summary>
    public string? BestDir { get; init; }
    public Action<SkippedLine>? OnSkipped { get; init; }
}
