using MoltBot.Inference.Training.Corpus;
using MoltBot.Inference.Training.Loop;

namespace MoltBot.Inference.Training.Nlu;

/// <summary>
/// What `train nlu` and `distill nlu` run. Without <see cref="TeacherDir"/> the encoder learns from the labels
/// alone; with it, from the teacher's soft intent and tag distributions as well.
/// </summary>
public sealed record NluTrainingJob
{
    public required string TrainFile { get; init; }
    public string? DevFile { get; init; }
    public required string OutDir { get; init; }
    /// <summary>Folder with vocab.json + merges.txt to use; null = the teacher's, or train a new BPE on the data.</summary>
    public string? TokenizerDir { get; init; }
    /// <summary>More text for BPE training (e.g. the dialog corpus) so NLU and LM share a vocabulary style.</summary>
    public IReadOnlyList<string> ExtraTokenizerText { get; init; } = [];
    public int VocabSize { get; init; } = 3000;
    public NluArchitecture Architecture { get; init; } = new();
    /// <summary>
    /// When set, the run trains an n-gram classifier (<see cref="Models.NgramClassifier"/>: intents only, no tag head)
    /// of this size instead of an encoder (<see cref="Architecture"/> is then unused). Not with a teacher or --init-from.
    /// </summary>
    public NgramArchitecture? Ngram { get; init; }
    public TrainingRunOptions Run { get; init; } = new();
    public MalformedLinePolicy Policy { get; init; } = MalformedLinePolicy.Fail;
    public string? TeacherDir { get; init; }
    /// <summary>
    /// FP32 NLU model folder whose weights start the run instead of a random initialisation (warm start, e.g. the
    /// committed teacher on an enlarged corpus). Its architecture, labels and tokenizer must be the run's; the
    /// optimiser and the learning-rate schedule start afresh. Ignored when a checkpoint is resumed.
    /// </summary>
    public string? InitFrom { get; init; }
    public DistillationOptions Distillation { get; init; } = new();
    /// <summary>Probability of deleting or replacing each training token (augmentation; 0 = off).</summary>
    public double TokenDropout { get; init; }
    /// <summary>Label smoothing ε of the intent loss (0 = plain cross-entropy): softer targets for a model that sees few phrasings.</summary>
    public double LabelSmoothing { get; init; }
    /// <summary>Weight each intent's loss by the inverse of its share of the training set, so phrasing-poor intents count as much as slot-rich ones.</summary>
    public bool BalanceIntents { get; init; }
    /// <summary>Weights left in the output folder at the end: the best dev evaluation's (default) or the last step's.</summary>
    public CheckpointSelection Keep { get; init; } = CheckpointSelection.Best;
    /// <summary>Told about every line skipped under <see cref="MalformedLinePolicy.Skip"/> (file and line).</summary>
    public Action<SkippedLine>? OnSkipped { get; init; }
}
